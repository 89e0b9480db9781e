import { clusterSchema } from '../../src/config/index.ts';
import { deleteTopics, createKafka } from '../../src/kafka/index.ts';
import { publishNight } from '../../src/produce/index.ts';
import type { OutgoingMessage } from '../../src/produce/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { Stage } from '../harness.ts';

const MB = 2 ** 20;

/**
 * `zads produce`'s send phase: our publisher (what the command runs — idempotent, acks=all, keyed by
 * objectId with Java's murmur2 partitioner) sending N copies of the real 3.3 alert to a fresh 16-partition
 * topic, beside Kafka's ProducerPerformance (same broker, acks=all) in MB/s.
 */
export const produceStage: Stage = {
  name: 'produce',
  group: 'produce',
  description: 'zads produce send phase: our idempotent publisher, real-size alerts, 16 partitions',
  dependsOn: ['kafka-producer-perf'],
  async run(ctx) {
    const cluster = clusterSchema.parse({ brokers: [ctx.kafkaBootstrap], clientId: 'zads-bench' });
    const topic = `ztf_20240101_programid${800_000_000 + Math.floor(Math.random() * 1e8)}`;
    ctx.defer(`delete topic ${topic}`, () => deleteTopics(createKafka(cluster), [topic]));
    const count = ctx.quick ? 2_000 : 20_000;
    const { payload } = await loadSampleAlert();
    function* messages(): Generator<OutgoingMessage> {
      for (let i = 0; i < count; i++) yield { key: `ZTF24obj${i % 4999}`, value: payload };
    }
    const report = await publishNight({ cluster, topic, messages: messages(), partitions: 16, onProgress: (p) => ctx.progress(`sent ${p.alerts} of ${count}`) });
    if (report.alerts !== count) throw new Error(`published ${report.alerts} of ${count}`);
    return [
      { metric: 'send rate', value: report.alertsPerSec, unit: 'alerts/s', notes: `${count} alerts of ${payload.length} B in ${report.seconds.toFixed(1)} s, ${report.batches} batches` },
      { metric: 'send throughput', value: report.alertsPerSec * payload.length / MB, unit: 'MB/s', baseline: 'kafka-producer-perf:throughput', goal: '≥ 1.0× Kafka\'s ProducerPerformance' },
      { metric: 'ack latency p99', value: report.sendLatencyMs.p99, unit: 'ms', notes: 'per batch, send() to acknowledgement' },
    ];
  },
};
