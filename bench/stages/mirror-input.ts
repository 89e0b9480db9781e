/**
 * The input the mirror stages copy, made the same way for each: a 16-partition night topic on the source
 * ("ipac") holding N copies of the 3.3 sample alert's message value, produced before the timed part.
 */
import { clusterSchema } from '../../src/config/index.ts';
import { ensureTopic } from '../../src/kafka/index.ts';
import type { KafkaClient } from '../../src/kafka/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { BenchContext } from '../harness.ts';

/** The "uw" cluster of ops/services.sh; the mirrors' target. */
export const UW_BOOTSTRAP = process.env.ZADS_BENCH_UW ?? '127.0.0.1:29092';
/** As ZTF's upstream topics. */
export const NIGHT_PARTITIONS = 16;

export function clusterOf(bootstrap: string) {
  return clusterSchema.parse({ brokers: [bootstrap], clientId: 'zads-bench' });
}

/** Alerts in the night: 10,000 (1,000 with --quick). */
export function mirrorInputCount(ctx: BenchContext): number {
  return ctx.quick ? 1000 : 10_000;
}

/** A program id no real night uses, so the stage's topics never meet anything else's. */
export function scratchProgramId(): number {
  return 700_000_000 + Math.floor(Math.random() * 1e8);
}

/**
 * Creates `topic` with 16 partitions on `source` and produces `count` copies of the sample's payload to it
 * (idempotent producer, keyed by 997 objectIds, batches of 100); returns the payload.
 */
export async function produceSampleNight(ctx: BenchContext, source: KafkaClient, topic: string, count: number): Promise<Buffer> {
  const { payload } = await loadSampleAlert();
  await ensureTopic(source, { topic, partitions: NIGHT_PARTITIONS });
  const producer = source.producer({ idempotent: true });
  await producer.connect();
  try {
    const batch = 100;
    for (let i = 0; i < count; i += batch) {
      const messages = Array.from({ length: Math.min(batch, count - i) }, (_, j) => ({ key: `ZTF24obj${(i + j) % 997}`, value: payload }));
      await producer.send({ topic, messages });
      ctx.progress(`produced ${i + messages.length} of ${count} alerts to ${topic}`);
    }
  } finally {
    await producer.disconnect();
  }
  return payload;
}
