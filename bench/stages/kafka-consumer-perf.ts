import type { Stage } from '../harness.ts';
import { findKafkaTools, runKafkaTool } from '../java.ts';
import { scratchGroup } from '../kafka-admin.ts';
import { perfTopicOf } from './kafka-producer-perf.ts';

/**
 * Kafka's own consumer benchmark reading back the topic kafka-producer-perf wrote (from the page cache,
 * mostly): what the broker hands a JVM client. The topic is deleted afterwards.
 */
export const kafkaConsumerPerf: Stage = {
  name: 'kafka-consumer-perf',
  group: 'baseline',
  description: "Kafka's ConsumerPerformance reading back the kafka-producer-perf topic",
  dependsOn: ['kafka-producer-perf'],
  async run(ctx) {
    const written = perfTopicOf(ctx);
    if (!written) throw new Error('kafka-producer-perf did not leave a topic to read (it failed earlier)');
    const tools = findKafkaTools(ctx.repoRoot);
    const group = scratchGroup(ctx, 'zads-bench-perf');
    try {
      const stdout = await runKafkaTool(
        ctx,
        tools,
        'org.apache.kafka.tools.ConsumerPerformance',
        [
          ...['--bootstrap-server', ctx.kafkaBootstrap, '--topic', written.scratch.topic, '--group', group],
          ...['--messages', String(written.records), '--timeout', '30000'],
        ],
        { timeoutMs: 10 * 60_000, onLine: (line) => ctx.progress(line, true) },
      );
      const stats = parseStats(stdout);
      const consumed = stats.get('data.consumed.in.nMsg');
      if (consumed !== written.records) {
        throw new Error(`ConsumerPerformance read ${consumed ?? 'no'} records of ${written.records}`);
      }
      const rebalanceMs = stats.get('rebalance.time.ms') ?? NaN;
      return [
        {
          metric: 'throughput',
          value: need(stats, 'MB.sec'),
          unit: 'MB/s',
          notes: `${written.records} records, group join (${rebalanceMs} ms) included`,
        },
        { metric: 'records/s', value: need(stats, 'nMsg.sec'), unit: 'records/s' },
        { metric: 'fetch throughput', value: need(stats, 'fetch.MB.sec'), unit: 'MB/s', notes: 'group join excluded' },
      ];
    } finally {
      await written.scratch.drop();
    }
  },
};

/**
 * The stats ConsumerPerformance prints: a header line of comma-separated names starting with
 * "start.time", and the line of values under it (its dates hold spaces but no commas).
 */
function parseStats(stdout: string): Map<string, number> {
  const lines = stdout.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith('start.time,'));
  const values = lines[at + 1];
  if (at < 0 || !values) throw new Error(`no stats in ConsumerPerformance's output: ${stdout.slice(-300)}`);
  const names = lines[at]!.split(',').map((s) => s.trim());
  const cells = values.split(',').map((s) => s.trim());
  return new Map(names.map((name, i) => [name, Number(cells[i])]));
}

function need(stats: Map<string, number>, name: string): number {
  const value = stats.get(name);
  if (value === undefined || !Number.isFinite(value)) throw new Error(`ConsumerPerformance printed no ${name}`);
  return value;
}
