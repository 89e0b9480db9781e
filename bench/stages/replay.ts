import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { readContainer } from '../../src/alert/index.ts';
import { alertRow, openArchive, segmentKey } from '../../src/archive/index.ts';
import type { AlertRow, Archive } from '../../src/archive/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { Replay } from '../../src/replay/index.ts';
import type { Pacing } from '../../src/replay/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { BenchContext, Stage, StageResult } from '../harness.ts';

const MB = 2 ** 20;
const NIGHT = '20240110';

/**
 * A bench archive of `count` catalogue rows that all point at the bytes of the real 3.3 alert (one
 * segment entry): replay reads each row's byte range, so it sends real-size messages without the
 * archive having to hold gigabytes. Arrival times rise 1 ms per alert.
 */
async function benchArchive(count: number, programid: number): Promise<{ archive: Archive; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zads-bench-replay-'));
  const archive = await openArchive({ dataDir, writer: true });
  const { payload } = await loadSampleAlert();
  const decoded = readContainer(payload)[0]!;
  const key = segmentKey(NIGHT, programid, 'bench');
  const { offsets, sizeBytes } = await archive.segments.append(key, [payload]);
  await archive.segments.sync();
  const base = alertRow(decoded, { night: NIGHT, programid, segment: key, byteOffset: offsets[0]!, byteLength: payload.length });
  for (let i = 0; i < count; i += 10_000) {
    const rows: AlertRow[] = [];
    for (let j = i; j < Math.min(count, i + 10_000); j++) {
      rows.push({ ...base, candid: 7_000_000_000_000_000_000n + BigInt(j), objectId: `ZTF24bench${j % 1000}`, kafkaTimestamp: 1_700_000_000_000 + j });
    }
    archive.catalogue.record({ alerts: rows, segments: [{ key, night: NIGHT, programid, sizeBytes }] });
  }
  return { archive, dataDir };
}

function cluster(bootstrap: string) {
  return clusterSchema.parse({ brokers: [bootstrap], clientId: 'zads-bench' });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function paced(ctx: BenchContext, archive: Archive, programid: number, rate: number, seconds: number, withLatency: boolean): Promise<StageResult[]> {
  const kafka = createKafka(cluster(ctx.kafkaBootstrap));
  const topic = `zads-bench-replay-${randomUUID().slice(0, 8)}`;
  ctx.defer(`delete ${topic}`, () => deleteTopics(kafka, [topic]));
  const latencies: number[] = [];
  const consumer = withLatency ? kafka.consumer({ groupId: `zads-bench-${randomUUID().slice(0, 8)}`, readUncommitted: false, maxWaitTimeInMs: 50 }) : undefined;
  const pacing: Pacing = { mode: 'rate', alertsPerSec: rate };
  const replay = new Replay({ id: `bench-${randomUUID().slice(0, 8)}`, archive, selection: { night: NIGHT, programid }, target: cluster(ctx.kafkaBootstrap), topic, partitions: 16, pacing, maxAlerts: Math.round(rate * seconds), maxBatchAlerts: Math.max(10, Math.round(rate / 20)) });
  if (consumer) {
    await ensureTopic(kafka, { topic, partitions: 16 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async ({ message }) => void latencies.push(Date.now() - Number(message.timestamp)) });
    await new Promise((r) => setTimeout(r, 3000));
  }
  const perSecond: number[] = [];
  let last = 0;
  const sampler = setInterval(() => {
    const sent = replay.status().sent;
    perSecond.push(sent - last);
    last = sent;
    ctx.progress(`rate ${rate}/s: ${sent} sent`);
  }, 1000);
  const report = await replay.run();
  clearInterval(sampler);
  if (consumer) {
    await new Promise((r) => setTimeout(r, 2000));
    await consumer.disconnect();
  }
  // Full seconds only: the first may start mid-second and the last ends early.
  const full = perSecond.slice(1, -1);
  const jitter = full.map((n) => Math.abs(n - rate) / rate).sort((a, b) => a - b);
  const out: StageResult[] = [
    {
      metric: `achieved at ${rate}/s`,
      value: report.achievedRate,
      unit: 'alerts/s',
      goal: `within ±1 % of ${rate} over ${seconds} s`,
      notes: `${(100 * (report.achievedRate / rate - 1)).toFixed(2)} % off; per-second deviation p99 ${(100 * percentile(jitter, 99)).toFixed(1)} %; pacing error p99 ${report.pacingErrorMs.p99} ms; ${report.sent} alerts in ${report.seconds.toFixed(1)} s`,
    },
  ];
  if (withLatency) {
    latencies.sort((a, b) => a - b);
    out.push(
      { metric: `publish→consume p50 at ${rate}/s`, value: percentile(latencies, 50), unit: 'ms', notes: `${latencies.length} messages read back (read_committed)` },
      { metric: `publish→consume p99 at ${rate}/s`, value: percentile(latencies, 99), unit: 'ms' },
    );
  }
  return out;
}

/**
 * Replay of an archived night of real-size alerts (the 3.3 sample, 67 KB) to the "ipac" broker:
 * achieved against requested rate at 100, 1,000 and 5,000 alerts/s; the maximum rate beside Kafka's
 * producer perf test; publish→consume latency at 1,000 alerts/s.
 */
export const replayStage: Stage = {
  name: 'replay',
  group: 'replay',
  description: 'replay of real-size alerts: achieved vs requested rate, maximum rate, publish→consume latency',
  dependsOn: ['kafka-producer-perf'],
  async run(ctx) {
    const seconds = ctx.quick ? 5 : 60;
    const rates = [100, 1000, 5000];
    const programid = 600_000 + Math.floor(Math.random() * 1e6);
    const { archive, dataDir } = await benchArchive(Math.max(...rates) * seconds, programid);
    ctx.defer('remove bench archive', async () => {
      await archive.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const results: StageResult[] = [];
    for (const rate of rates) results.push(...(await paced(ctx, archive, programid, rate, seconds, rate === 1000)));

    const kafka = createKafka(cluster(ctx.kafkaBootstrap));
    const topic = `zads-bench-replay-max-${randomUUID().slice(0, 8)}`;
    ctx.defer(`delete ${topic}`, () => deleteTopics(kafka, [topic]));
    const count = ctx.quick ? 2000 : 20_000;
    const max = await new Replay({ id: `bench-max-${randomUUID().slice(0, 8)}`, archive, selection: { night: NIGHT, programid }, target: cluster(ctx.kafkaBootstrap), topic, partitions: 16, maxAlerts: count }).run();
    results.push(
      { metric: 'max rate', value: max.achievedRate, unit: 'alerts/s', notes: `${max.sent} alerts of 67 KB in ${max.seconds.toFixed(1)} s, ${max.transactions} transactions` },
      { metric: 'max throughput', value: max.bytes / MB / max.seconds, unit: 'MB/s', baseline: 'kafka-producer-perf:transactional throughput', goal: '≥ 0.8 of Kafka\'s producer perf test' },
    );
    return results;
  },
};
