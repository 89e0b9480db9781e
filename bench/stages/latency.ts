import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOGUE_FILE, Catalogue } from '../../src/archive/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import { Mirror } from '../../src/ingest/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { publishNight } from '../../src/produce/index.ts';
import type { OutgoingMessage } from '../../src/produce/index.ts';
import { writeContainer, readContainer } from '../../src/alert/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { Stage } from '../harness.ts';

const UW_BOOTSTRAP = process.env.ZADS_BENCH_UW ?? '127.0.0.1:29092';
/** ZTF's peak: ~80,000 alerts a minute. */
const RATE = 1333;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * End-to-end latency at ZTF's peak rate, as ZADS promises it (each alert available within ~10 s): alerts
 * published to "ipac" at 1,333/s by our publisher, mirrored exactly once to "uw" by an in-process mirror,
 * archived by `zads archive run` (a child process). The k-th alert's latency is the time the catalogue first
 * held k rows minus the k-th Kafka timestamp (set when it was produced and kept by the mirror); the catalogue
 * is polled every 20 ms, which bounds the resolution.
 */
export const latencyStage: Stage = {
  name: 'latency',
  group: 'ingest',
  description: 'produce → mirror → archive latency at 1,333 alerts/s (p50/p99)',
  async run(ctx) {
    const seconds = ctx.quick ? 10 : 60;
    const count = RATE * seconds;
    const programid = 900_000_000 + Math.floor(Math.random() * 1e8);
    const night = '20240115';
    const topic = `ztf_${night}_programid${programid}`;
    const ipac = clusterSchema.parse({ brokers: [ctx.kafkaBootstrap], clientId: 'zads-bench' });
    const uw = clusterSchema.parse({ brokers: [UW_BOOTSTRAP], clientId: 'zads-bench' });
    ctx.defer(`delete ${topic}`, async () => {
      await deleteTopics(createKafka(ipac), [topic]);
      await deleteTopics(createKafka(uw), [topic]);
    });
    await ensureTopic(createKafka(ipac), { topic, partitions: 16 });
    const { payload } = await loadSampleAlert();
    const { alert, schema } = readContainer(payload)[0]!;
    // A pool of distinct alerts, renumbered as they go out so that every catalogue row is new.
    const pool = Array.from({ length: 500 }, (_, i) => ({ ...alert, objectId: `ZTF24lat${String(i).padStart(4, '0')}` }));

    const mirror = new Mirror({ from: ipac, to: uw, topics: new RegExp(`^${topic}$`), name: `bench-latency-${programid}`, reportIntervalMs: 0, discoveryIntervalMs: 200 });
    ctx.defer('close mirror', () => mirror.close());
    await mirror.start();
    const dataDir = mkdtempSync(join(ctx.dataDir, 'latency-'));
    // ~5 GB per run: registered before the archiver's stop, so it runs after it.
    ctx.defer(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
    const archiver = spawn(process.execPath, ['bin/zads.js', 'archive', 'run', '--data', dataDir, '--brokers', UW_BOOTSTRAP, '--topics', `^${topic}$`, '--group', `bench-${randomUUID().slice(0, 8)}`, '--no-schedule'], {
      cwd: ctx.repoRoot,
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, ZADS_LOG_LEVEL: 'warn' },
    });
    ctx.defer('stop archive run', () => void archiver.kill('SIGKILL'));
    // Let both join their groups before the clock starts.
    await new Promise((r) => setTimeout(r, 5000));

    // Rows are recorded per partition, not in send order, and their rowid is the candid: the catalogue is
    // polled for its row count, and the k-th alert to be archived is matched with the k-th alert produced (by
    // Kafka timestamp). Per partition the archive keeps Kafka's order, so this is the time until k alerts were
    // available, alert by alert.
    const counts: { atMs: number; n: number }[] = [];
    let catalogue: Catalogue | undefined;
    const poll = setInterval(() => {
      try {
        catalogue ??= new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
        const n = catalogue.alertCount();
        if (counts.length === 0 || counts[counts.length - 1]!.n !== n) counts.push({ atMs: Date.now(), n });
        ctx.progress(`archived ${n} of ${count}`);
      } catch {
        // The archiver has not created its catalogue yet.
      }
    }, 20);
    const archived = () => counts[counts.length - 1]?.n ?? 0;
    function* messages(): Generator<OutgoingMessage> {
      for (let i = 0; i < count; i++) {
        const a = pool[i % pool.length]!;
        const candid = 7_100_000_000_000_000_000n + BigInt(i);
        yield { key: a.objectId, value: writeContainer([{ ...a, candid, candidate: { ...a.candidate, candid } }], schema, { validate: false }) };
      }
    }
    const report = await publishNight({ cluster: ipac, topic, messages: messages(), rateAlertsPerSec: RATE, batchMaxMessages: 50 });
    const deadline = Date.now() + 120_000;
    while (archived() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    clearInterval(poll);
    const produced = catalogue ? [...catalogue.kafkaTimestamps()] : [];
    catalogue?.close();
    const latencies: number[] = [];
    let c = 0;
    for (let k = 1; k <= produced.length; k++) {
      while (c < counts.length && counts[c]!.n < k) c++;
      if (c < counts.length) latencies.push(counts[c]!.atMs - produced[k - 1]!);
    }
    archiver.kill('SIGTERM');
    await mirror.close();
    if (archived() < count) throw new Error(`only ${archived()} of ${count} alerts archived 2 minutes after the last was sent`);
    latencies.sort((a, b) => a - b);
    const notes = `${count} alerts at ${report.alertsPerSec.toFixed(0)}/s offered for ${seconds} s; k-th Kafka timestamp at produce → catalogue holding k rows (mirror in-process, archiver a child process; 20 ms polling)`;
    return [
      { metric: 'produce→archived p50', value: percentile(latencies, 50), unit: 'ms', notes },
      { metric: 'produce→archived p99', value: percentile(latencies, 99), unit: 'ms', goal: '< 2,000 ms at 1,333 alerts/s' },
      { metric: 'produce→archived max', value: latencies[latencies.length - 1]!, unit: 'ms' },
    ];
  },
};
