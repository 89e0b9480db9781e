import { clusterSchema } from '../../src/config/index.ts';
import { Mirror } from '../../src/ingest/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { Stage } from '../harness.ts';
import { waitFor } from '../timing.ts';

/** The "uw" cluster of ops/services.sh; the mirror's target. */
const UW_BOOTSTRAP = process.env.ZADS_BENCH_UW ?? '127.0.0.1:29092';
const MB = 2 ** 20;

function clusterOf(bootstrap: string) {
  return clusterSchema.parse({ brokers: [bootstrap], clientId: 'zads-bench' });
}


/**
 * The exactly-once mirror, ipac → uw: (1) throughput copying a 16-partition night of real-size alerts
 * (the 3.3 sample's bytes) produced beforehand, from start to the last record committed on the target,
 * beside Kafka's producer perf test; (2) how long after a topic is created upstream its first record is
 * committed on the target (MirrorMaker 2 looks for new topics every 600 s by default).
 */
export const mirrorStage: Stage = {
  name: 'mirror',
  group: 'ingest',
  description: 'exactly-once mirror ipac → uw: alerts/s on a 16-partition night, and new-topic discovery latency',
  dependsOn: ['kafka-producer-perf'],
  async run(ctx) {
    const source = createKafka(clusterOf(ctx.kafkaBootstrap));
    const target = createKafka(clusterOf(UW_BOOTSTRAP));
    const id = 700_000_000 + Math.floor(Math.random() * 1e8);
    const pattern = new RegExp(`^ztf_\\d{8}_programid${id}$`);
    const night = `ztf_20240101_programid${id}`;
    const lateTopics = [2, 3, 4].map((d) => `ztf_2024010${d}_programid${id}`);
    ctx.defer('delete mirror bench topics', async () => {
      await deleteTopics(source, [night, ...lateTopics]);
      await deleteTopics(target, [night, ...lateTopics]);
    });
    const count = ctx.quick ? 1000 : 10_000;
    const { payload } = await loadSampleAlert();
    await ensureTopic(source, { topic: night, partitions: 16 });
    const producer = source.producer({ idempotent: true });
    await producer.connect();
    const batch = 100;
    for (let i = 0; i < count; i += batch) {
      const messages = Array.from({ length: Math.min(batch, count - i) }, (_, j) => ({ key: `ZTF24obj${(i + j) % 997}`, value: payload }));
      await producer.send({ topic: night, messages });
      ctx.progress(`produced ${i + messages.length} of ${count} alerts to ${night}`);
    }
    await producer.disconnect();

    const mirror = new Mirror({ from: clusterOf(ctx.kafkaBootstrap), to: clusterOf(UW_BOOTSTRAP), topics: pattern, name: `bench-${id}`, reportIntervalMs: 0 });
    ctx.defer('close mirror', () => mirror.close());
    const t0 = performance.now();
    await mirror.start();
    await waitFor(ctx, `mirroring ${count} alerts`, () => {
      ctx.progress(`mirrored ${mirror.stats.records} of ${count}`);
      return mirror.stats.records >= count;
    }, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    const stats = mirror.stats;

    const discovery: number[] = [];
    const lateProducer = source.producer();
    await lateProducer.connect();
    for (const topic of lateTopics) {
      const before = mirror.stats.records;
      const created = performance.now();
      await ensureTopic(source, { topic, partitions: 16 });
      await lateProducer.send({ topic, messages: [{ key: 'k', value: payload }] });
      await waitFor(ctx, `mirroring new topic ${topic}`, () => mirror.stats.records > before, 60_000);
      discovery.push(performance.now() - created);
    }
    await lateProducer.disconnect();
    await mirror.close();
    discovery.sort((a, b) => a - b);
    const perSec = count / seconds;
    return [
      {
        metric: 'throughput',
        value: perSec,
        unit: 'alerts/s',
        notes: `${count} alerts of ${payload.length} bytes in ${seconds.toFixed(1)} s, ${stats.transactions} transactions, from start (connect, group join) to the last commit`,
      },
      { metric: 'throughput MB/s', value: (perSec * payload.length) / MB, unit: 'MB/s', baseline: 'kafka-producer-perf:throughput' },
      {
        metric: 'new-topic discovery',
        value: discovery[Math.floor(discovery.length / 2)]!,
        unit: 'ms',
        goal: '< 5,000 ms (MirrorMaker 2: 600,000)',
        notes: `topic created → first record committed on the target, median of ${discovery.map((d) => d.toFixed(0)).join(', ')} ms`,
      },
    ];
  },
};
