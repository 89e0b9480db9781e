import avro from 'avsc';
import { BigIntLongType, withoutDefaults } from '../../src/alert/index.ts';
import { distinctCopies, loadSampleAlert, SAMPLE_CANDID } from '../alert-sample.ts';
import type { Stage } from '../harness.ts';
import { measureRate } from '../timing.ts';

/** Distinct message buffers cycled through, so the decoder does not read one hot buffer from cache. */
const COPIES = 256;
const BATCH = 16;

/**
 * The floor under the codec: avsc alone decoding the bare 3.3 record with a type parsed once, configured
 * as the codec configures it (BigInt longs, unwrapped unions, defaults stripped). No container, no
 * schema cache, no checks, no promise.
 */
export const avscAlone: Stage = {
  name: 'avsc-alone',
  group: 'baseline',
  description: 'plain avsc decoding the bare ZTF 3.3 record (type parsed once), one core',
  async run(ctx) {
    const sample = await loadSampleAlert();
    const type = avro.Type.forSchema(withoutDefaults(sample.schema) as avro.Schema, {
      wrapUnions: false,
      registry: { long: BigIntLongType },
    });
    const records = distinctCopies(sample.record, COPIES);
    const first = type.decode(records[0]!, 0) as { value: { candid: bigint }; offset: number };
    if (first.value.candid !== SAMPLE_CANDID || first.offset !== sample.record.length) {
      throw new Error(`the sample record decoded to candid ${first.value.candid}, expected ${SAMPLE_CANDID}`);
    }
    let sink = 0;
    const rate = await measureRate(ctx, {
      warmupMs: ctx.quick ? 300 : 2000,
      durationMs: ctx.quick ? 1000 : 5000,
      batchSize: BATCH,
      itemName: 'alerts',
      runBatch(batch) {
        const base = (batch * BATCH) % COPIES;
        for (let i = 0; i < BATCH; i++) sink += type.decode(records[(base + i) % COPIES]!, 0).offset;
      },
    });
    if (sink === 0) throw new Error('nothing decoded');
    return [
      {
        metric: 'decode rate',
        value: rate.perSecond,
        unit: 'alerts/s',
        notes: `${rate.items} bare records of ${sample.record.length} bytes in ${rate.seconds.toFixed(2)} s`,
      },
    ];
  },
};
