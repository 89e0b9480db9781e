import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readContainer, writeContainer } from '../../src/alert/index.ts';
import { CATALOGUE_FILE, Catalogue, closeNight, openArchive } from '../../src/archive/index.ts';
import type { AlertRow } from '../../src/archive/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { loadSampleAlert } from '../alert-sample.ts';
import type { BenchContext, Stage, StageResult } from '../harness.ts';

const UW_BOOTSTRAP = process.env.ZADS_BENCH_UW ?? '127.0.0.1:29092';
const MB = 2 ** 20;
const NIGHT = '20240111';

/** Distinct real-size alerts: the 3.3 sample under new candids, each its own container file. */
async function distinctMessages(count: number): Promise<{ key: string; value: Buffer }[]> {
  const { payload } = await loadSampleAlert();
  const { alert, schema } = readContainer(payload)[0]!;
  const out: { key: string; value: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const candid = 6_000_000_000_000_000_000n + BigInt(i);
    const objectId = `ZTF24bench${String(i % 5000).padStart(3, 'a')}`;
    out.push({ key: objectId, value: writeContainer([{ ...alert, candid, objectId, candidate: { ...alert.candidate, candid } }], schema, { validate: false }) });
  }
  return out;
}

function archivedCount(dataDir: string, programid: number): number {
  try {
    const c = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    try {
      return c.countNight(NIGHT, programid).alerts;
    } finally {
      c.close();
    }
  } catch {
    return 0;
  }
}

/** Peak resident memory of a process, from /proc (Linux), in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function ingest(ctx: BenchContext, count: number): Promise<{ results: StageResult[]; dataDir: string; programid: number }> {
  const kafka = createKafka(clusterSchema.parse({ brokers: [UW_BOOTSTRAP], clientId: 'zads-bench' }));
  const programid = 800_000 + Math.floor(Math.random() * 1e6);
  const topic = `ztf_${NIGHT}_programid${programid}`;
  ctx.defer(`delete ${topic}`, () => deleteTopics(kafka, [topic]));
  await ensureTopic(kafka, { topic, partitions: 16 });
  const messages = await distinctMessages(count);
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 50) {
    await producer.send({ topic, messages: messages.slice(i, i + 50) });
    ctx.progress(`produced ${Math.min(i + 50, count)} of ${count} to ${topic}`);
  }
  await producer.disconnect();
  const bytes = messages.reduce((n, m) => n + m.value.length, 0);

  const dataDir = mkdtempSync(join(ctx.dataDir, 'archive-'));
  const child = spawn(process.execPath, ['bin/zads.js', 'archive', 'run', '--data', dataDir, '--brokers', UW_BOOTSTRAP, '--topics', `^${topic}$`, '--group', `bench-${randomUUID().slice(0, 8)}`, '--no-schedule'], {
    cwd: ctx.repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ZADS_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  ctx.defer('stop archive run', () => void child.kill('SIGKILL'));
  let first = 0;
  let peak = 0;
  const deadline = Date.now() + 900_000;
  for (;;) {
    const n = archivedCount(dataDir, programid);
    if (n > 0 && first === 0) first = performance.now();
    peak = Math.max(peak, peakRssMb(child.pid!));
    ctx.progress(`archived ${n} of ${count}`);
    if (n >= count) break;
    if (child.exitCode !== null) throw new Error(`zads archive run exited ${child.exitCode}: ${stderr.slice(-500)}`);
    if (Date.now() > deadline) throw new Error('archive ingest did not finish in 15 minutes');
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - first) / 1000;
  peak = Math.max(peak, peakRssMb(child.pid!));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const perSec = count / seconds;
  return {
    dataDir,
    programid,
    results: [
      { metric: 'ingest rate', value: perSec, unit: 'alerts/s', notes: `${count} alerts of ${(bytes / count / 1024).toFixed(0)} KiB from the first row recorded to the last (16 partitions, fdatasync of the segment + one catalogue transaction per batch)` },
      { metric: 'ingest throughput', value: (perSec * bytes) / count / MB, unit: 'MB/s', baseline: 'disk:write, fsync every 16 MB', goal: '≥ 0.5 of the disk (the broker writes the same bytes)' },
      { metric: 'ingest vs Kafka consumer', value: (perSec * bytes) / count / MB, unit: 'MB/s', baseline: 'kafka-consumer-perf:throughput', goal: '≥ 0.9× Kafka\'s ConsumerPerformance' },
      { metric: 'archiver peak RSS', value: peak, unit: 'MB', goal: '≤ 512 MB whatever the night\'s size', notes: 'VmHWM of the zads archive run process' },
    ],
  };
}

function archiveRun(ctx: BenchContext, dataDir: string, topic: string, group: string) {
  const child = spawn(process.execPath, ['bin/zads.js', 'archive', 'run', '--data', dataDir, '--brokers', UW_BOOTSTRAP, '--topics', `^${topic}$`, '--group', group, '--no-schedule'], {
    cwd: ctx.repoRoot,
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, ZADS_LOG_LEVEL: 'warn' },
  });
  ctx.defer('stop archive run', () => void child.kill('SIGKILL'));
  return child;
}

/**
 * `kill -9` of `zads archive run` mid-night, then a restart on the same data folder: the time from the
 * restart until the catalogue grows again (the archiver is a static group member, so the broker gives its
 * partitions straight back instead of waiting out the dead process's session).
 */
async function restartDelay(ctx: BenchContext): Promise<StageResult> {
  const count = ctx.quick ? 2000 : 6000;
  const kafka = createKafka(clusterSchema.parse({ brokers: [UW_BOOTSTRAP], clientId: 'zads-bench' }));
  const programid = 800_000 + Math.floor(Math.random() * 1e6);
  const topic = `ztf_${NIGHT}_programid${programid}`;
  ctx.defer(`delete ${topic}`, () => deleteTopics(kafka, [topic]));
  await ensureTopic(kafka, { topic, partitions: 16 });
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const messages = await distinctMessages(count);
  for (let i = 0; i < messages.length; i += 50) await producer.send({ topic, messages: messages.slice(i, i + 50) });
  await producer.disconnect();
  const dataDir = mkdtempSync(join(ctx.dataDir, 'archive-restart-'));
  const group = `bench-${randomUUID().slice(0, 8)}`;
  const first = archiveRun(ctx, dataDir, topic, group);
  while (archivedCount(dataDir, programid) < count / 4) await new Promise((r) => setTimeout(r, 50));
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  const atKill = archivedCount(dataDir, programid);
  const restarted = performance.now();
  const second = archiveRun(ctx, dataDir, topic, group);
  while (archivedCount(dataDir, programid) <= atKill) {
    if (performance.now() - restarted > 120_000) throw new Error('the restarted archiver archived nothing for 2 minutes');
    await new Promise((r) => setTimeout(r, 20));
  }
  const delayMs = performance.now() - restarted;
  while (archivedCount(dataDir, programid) < count) await new Promise((r) => setTimeout(r, 100));
  second.kill('SIGTERM');
  await new Promise((r) => second.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
  return { metric: 'restart after kill -9 → archiving again', value: delayMs, unit: 'ms', goal: '≤ 5,000 ms', notes: `killed at ${atKill} of ${count} archived; from spawning the new process (node start included) to the next catalogue row; all ${count} archived once` };
}

/**
 * The archive: ingest of a 16-partition night of distinct real-size alerts by `zads archive run` (a
 * child process, so its peak memory is its own) beside the disk baseline; night close MB/s beside one
 * core's gzip of the same bytes; catalogue rows/s.
 */
export const archiveStage: Stage = {
  name: 'archive',
  group: 'archive',
  description: 'archive ingest alerts/s and MB/s vs disk, peak RSS; night close MB/s vs gzip; catalogue rows/s',
  dependsOn: ['disk', 'kafka-consumer-perf'],
  async run(ctx) {
    const count = ctx.quick ? 1000 : 10_000;
    const { results, dataDir, programid } = await ingest(ctx, count);
    ctx.defer('remove bench archive', () => rmSync(dataDir, { recursive: true, force: true }));

    const archive = await openArchive({ dataDir, writer: true });
    try {
      const close = await closeNight(archive, { night: NIGHT, programid });
      // One core's gzip (level 6, as the close uses) of the same alert bytes, in the same run.
      const sample = [...archive.catalogue.alertsOfNight(NIGHT, programid)].slice(0, 500);
      const raw = Buffer.concat(await Promise.all(sample.map((r) => archive.segments.read(r.segment, r.byteOffset, r.byteLength))));
      const t0 = performance.now();
      gzipSync(raw, { level: 6 });
      const gzipMbPerSec = raw.length / MB / ((performance.now() - t0) / 1000);
      const closeMbPerSec = close.alertBytes / MB / close.seconds;
      results.push(
        { metric: 'gzip, one core', value: gzipMbPerSec, unit: 'MB/s', notes: `gzipSync level 6 of ${(raw.length / MB).toFixed(0)} MB of the same alerts` },
        { metric: 'night close', value: closeMbPerSec, unit: 'MB/s', baseline: 'archive:gzip, one core', goal: '≥ 0.8 of one core\'s gzip', notes: `${close.alerts} alerts, tarball ${(close.bytes / MB).toFixed(0)} MB in ${close.seconds.toFixed(1)} s (writing ${close.writeSeconds.toFixed(1)} s on every core, then the end check)` },
      );
    } finally {
      await archive.close();
    }

    const cat = new Catalogue(join(mkdtempSync(join(tmpdir(), 'zads-bench-cat-')), CATALOGUE_FILE));
    const rows = ctx.quick ? 20_000 : 200_000;
    const base: AlertRow = { candid: 0n, objectId: '', night: NIGHT, programid: 1, jd: 2460300.5, ra: 10, dec: 20, fid: 1, magpsf: 18, sigmapsf: 0.1, rb: 0.9, drb: 0.99, schemaVersion: '4.02', topic: 't', partition: 0, kafkaOffset: 0n, kafkaTimestamp: 0, segment: 's', byteOffset: 0, byteLength: 1 };
    const t1 = performance.now();
    for (let i = 0; i < rows; i += 1000) {
      const batch: AlertRow[] = [];
      for (let j = i; j < i + 1000; j++) batch.push({ ...base, candid: BigInt(j + 1), objectId: `ZTF24obj${j % 50_000}`, ra: (j * 0.0137) % 360, dec: ((j * 0.0071) % 180) - 90, kafkaOffset: BigInt(j) });
      cat.record({ alerts: batch, positions: [{ topic: 't', partition: 0, nextOffset: BigInt(i + 1000) }] });
    }
    const rowsPerSec = rows / ((performance.now() - t1) / 1000);
    cat.close();
    rmSync(join(cat.path, '..'), { recursive: true, force: true });
    results.push({ metric: 'catalogue rows', value: rowsPerSec, unit: 'rows/s', notes: `${rows} rows in transactions of 1,000 (WAL, synchronous=NORMAL, R*Tree and 3 indexes)` });
    results.push(await restartDelay(ctx));
    return results;
  },
};
