import { Mirror } from '../../src/ingest/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import type { Stage } from '../harness.ts';
import { waitFor } from '../timing.ts';
import { UW_BOOTSTRAP, clusterOf, mirrorInputCount, produceSampleNight, scratchProgramId } from './mirror-input.ts';

const MB = 2 ** 20;

/**
 * The exactly-once mirror, ipac → uw: (1) throughput copying a 16-partition night of real-size alerts
 * (the 3.3 sample's bytes) produced beforehand, from start to the last record committed on the target,
 * beside Kafka's producer perf test and MirrorMaker 2 with exactly-once source support on the same input
 * (the mirrormaker2 stage); (2) how long after a topic is created upstream its first record is
 * committed on the target (MirrorMaker 2 looks for new topics every 600 s by default).
 */
export const mirrorStage: Stage = {
  name: 'mirror',
  group: 'ingest',
  description: 'exactly-once mirror ipac → uw: alerts/s on a 16-partition night, and new-topic discovery latency',
  dependsOn: ['kafka-producer-perf', 'mirrormaker2'],
  async run(ctx) {
    const source = createKafka(clusterOf(ctx.kafkaBootstrap));
    const target = createKafka(clusterOf(UW_BOOTSTRAP));
    const id = scratchProgramId();
    const pattern = new RegExp(`^ztf_\\d{8}_programid${id}$`);
    const night = `ztf_20240101_programid${id}`;
    const lateTopics = [2, 3, 4].map((d) => `ztf_2024010${d}_programid${id}`);
    ctx.defer('delete mirror bench topics', async () => {
      await deleteTopics(source, [night, ...lateTopics]);
      await deleteTopics(target, [night, ...lateTopics]);
    });
    const count = mirrorInputCount(ctx);
    const payload = await produceSampleNight(ctx, source, night, count);

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
        baseline: 'mirrormaker2:throughput',
        goal: '≥ 1.0× MirrorMaker 2 (exactly once)',
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
