import { decodePayload, SchemaCache } from '../../src/alert/index.ts';
import { distinctCopies, loadSampleAlert, SAMPLE_CANDID } from '../alert-sample.ts';
import type { Stage } from '../harness.ts';
import { measureRate } from '../timing.ts';

/** Distinct message values cycled through (about 17 MB), as a consumer gets them from fetches. */
const COPIES = 256;
const BATCH = 16;
const MB = 2 ** 20;

/**
 * The codec on the real ZTF 3.3 alert taken as a Kafka message value: `decodePayload` on the whole
 * container file (header, embedded schema looked up in the cache, block, record, checks), awaited one
 * message at a time on one core, as a consumer's eachMessage would.
 */
export const codecDecode: Stage = {
  name: 'codec-decode',
  group: 'codec',
  description: 'decodePayload on the real ZTF 3.3 alert as a Kafka message value, one core',
  dependsOn: ['avsc-alone'],
  async run(ctx) {
    const sample = await loadSampleAlert();
    const values = distinctCopies(sample.payload, COPIES);
    const cache = new SchemaCache();
    const [first] = await decodePayload(values[0]!, { cache });
    if (first?.alert.candid !== SAMPLE_CANDID) {
      throw new Error(`the sample payload decoded to candid ${first?.alert.candid}, expected ${SAMPLE_CANDID}`);
    }
    let sink = 0;
    const rate = await measureRate(ctx, {
      warmupMs: ctx.quick ? 300 : 2000,
      durationMs: ctx.quick ? 1000 : 5000,
      batchSize: BATCH,
      itemName: 'alerts',
      async runBatch(batch) {
        const base = (batch * BATCH) % COPIES;
        for (let i = 0; i < BATCH; i++) {
          const source = { topic: 'ztf_20180601_programid1', partition: 0, offset: String(batch * BATCH + i) };
          sink += (await decodePayload(values[(base + i) % COPIES]!, { cache, source })).length;
        }
      },
    });
    if (sink === 0) throw new Error('nothing decoded');
    if (cache.parses !== 1) throw new Error(`the writer schema was parsed ${cache.parses} times, expected once`);
    const notes = `${rate.items} messages of ${sample.payload.length} bytes in ${rate.seconds.toFixed(2)} s`;
    return [
      {
        metric: 'decode rate',
        value: rate.perSecond,
        unit: 'alerts/s',
        baseline: 'avsc-alone',
        goal: '≥ 10,000 alerts/s on one core',
        notes,
      },
      { metric: 'payload throughput', value: (rate.perSecond * sample.payload.length) / MB, unit: 'MB/s', notes },
      { metric: 'time per alert', value: 1e6 / rate.perSecond, unit: 'µs' },
    ];
  },
};
