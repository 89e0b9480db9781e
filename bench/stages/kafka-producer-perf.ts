import type { BenchContext, Stage } from '../harness.ts';
import { findKafkaTools, runKafkaTool } from '../java.ts';
import { createScratchTopic } from '../kafka-admin.ts';
import type { ScratchTopic } from '../kafka-admin.ts';

/** Close to a ZTF alert with its three cutouts (50–70 KB). */
export const PERF_RECORD_BYTES = 60_000;
/** As ZTF's upstream topics. */
const PARTITIONS = 16;
/**
 * Batches up to 1 MB (under the broker's default max.message.bytes of 1 MB + 12, so the topic needs no
 * override); max.request.size above it so a full batch is never refused client-side.
 */
const PRODUCER_PROPS = ['acks=all', 'linger.ms=5', 'batch.size=1048576', 'max.request.size=2097152'];

/** How long each transaction of the transactional run stays open, in ms (≈ 500 records at its rate). */
const TXN_DURATION_MS = 500;

/** The topic this stage wrote, for kafka-consumer-perf. */
export interface PerfTopic {
  scratch: ScratchTopic;
  records: number;
}
const PERF_TOPIC_KEY = 'kafka-producer-perf.topic';

export function perfTopicOf(ctx: BenchContext): PerfTopic | undefined {
  return ctx.shared.get(PERF_TOPIC_KEY) as PerfTopic | undefined;
}

// "20000 records sent, 645.369474 records/sec (36.93 MB/sec), 635.55 ms avg latency, 1753.00 ms max latency,
//  525 ms 50th, 1417 ms 95th, 1702 ms 99th, 1753 ms 99.9th."
const SUMMARY =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/;

/** Kafka's own producer benchmark against the "ipac" broker: what the broker and disk take from a JVM client. */
export const kafkaProducerPerf: Stage = {
  name: 'kafka-producer-perf',
  group: 'baseline',
  description: `Kafka's ProducerPerformance, ${PERF_RECORD_BYTES}-byte records, acks=all, to a fresh ${PARTITIONS}-partition topic`,
  async run(ctx) {
    const tools = findKafkaTools(ctx.repoRoot);
    const records = ctx.quick ? 2_000 : 20_000;
    const scratch = await createScratchTopic(ctx, 'zads-bench-perf', PARTITIONS);
    ctx.progress(`topic ${scratch.topic}: producing ${records} records with Kafka ${tools.version}`, true);
    const stdout = await runKafkaTool(
      ctx,
      tools,
      'org.apache.kafka.tools.ProducerPerformance',
      [
        ...['--topic', scratch.topic, '--num-records', String(records), '--record-size', String(PERF_RECORD_BYTES)],
        ...['--throughput', '-1', '--producer-props', `bootstrap.servers=${ctx.kafkaBootstrap}`, ...PRODUCER_PROPS],
      ],
      { timeoutMs: 15 * 60_000, onLine: (line) => ctx.progress(line, true) },
    );
    const m = SUMMARY.exec(stdout);
    if (!m) throw new Error(`no summary line in ProducerPerformance's output: ${stdout.slice(-300)}`);
    const sent = Number(m[1]);
    if (sent !== records) throw new Error(`ProducerPerformance sent ${sent} records of ${records}`);
    ctx.shared.set(PERF_TOPIC_KEY, { scratch, records } satisfies PerfTopic);
    const notes = `${records} × ${PERF_RECORD_BYTES} B, ${PRODUCER_PROPS.join(' ')}`;
    // The same in transactional mode, as our replay writes: a transaction every 500 records' worth of time.
    const txnScratch = await createScratchTopic(ctx, 'zads-bench-perf-txn', PARTITIONS);
    ctx.progress(`topic ${txnScratch.topic}: producing ${records} records in transactions`, true);
    const txnStdout = await runKafkaTool(
      ctx,
      tools,
      'org.apache.kafka.tools.ProducerPerformance',
      [
        ...['--topic', txnScratch.topic, '--num-records', String(records), '--record-size', String(PERF_RECORD_BYTES)],
        ...['--throughput', '-1', '--transactional-id', `zads-bench-perf-${txnScratch.topic}`, '--transaction-duration-ms', String(TXN_DURATION_MS)],
        ...['--producer-props', `bootstrap.servers=${ctx.kafkaBootstrap}`, ...PRODUCER_PROPS],
      ],
      { timeoutMs: 15 * 60_000, onLine: (line) => ctx.progress(line, true) },
    );
    const t = SUMMARY.exec(txnStdout);
    if (!t) throw new Error(`no summary line in transactional ProducerPerformance's output: ${txnStdout.slice(-300)}`);
    await txnScratch.drop();
    return [
      { metric: 'records/s', value: Number(m[2]), unit: 'records/s', notes },
      { metric: 'throughput', value: Number(m[3]), unit: 'MB/s' },
      { metric: 'avg latency', value: Number(m[4]), unit: 'ms' },
      { metric: 'p50 latency', value: Number(m[6]), unit: 'ms' },
      { metric: 'p99 latency', value: Number(m[8]), unit: 'ms' },
      { metric: 'transactional records/s', value: Number(t[2]), unit: 'records/s', notes: `--transactional-id, --transaction-duration-ms ${TXN_DURATION_MS}` },
      { metric: 'transactional throughput', value: Number(t[3]), unit: 'MB/s' },
    ];
  },
};
