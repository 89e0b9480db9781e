/**
 * One phase of the load stage: a fresh nightly topic on "uw", `zads archive run` into a fresh data
 * folder, `zads serve` on that folder (read-only, as deployed), the producer processes at a set total
 * rate and the API client, all at once for a set time. Every `sampleMs` it records what was produced
 * (the topic's high watermarks), what was archived (the catalogue's next offsets per partition: the
 * ingest's consumer position), their difference (the ingest lag), the free disk space and the load
 * average. Everything it started is stopped and deleted when it ends.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUE_FILE, Catalogue } from '../../src/archive/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import { createKafka, deleteTopics, ensureTopic, nightTopicName } from '../../src/kafka/index.ts';
import type { BenchContext } from '../harness.ts';
import type { PoolIndex } from './load-alerts.ts';
import { startChild, waitForLine } from './load-children.ts';
import type { Child } from './load-children.ts';
import type { ClientLine, ClientPlan, ProducerLine, ProducerPlan, QueryKind } from './load-protocol.ts';
import { slope, summarize } from './load-stats.ts';

const PRODUCER_ENTRY = fileURLToPath(new URL('./load-producer.ts', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const PARTITIONS = 16;
const GiB = 2 ** 30;
/** What the broker keeps of each partition of the load topic (retention.bytes), in bytes. */
const BROKER_KEEP_BYTES = 128 * 2 ** 20;

export interface PhaseOptions {
  /** For progress lines: "peak", "hold". */
  label: string;
  /** Night of the topic (programid 1); the topic must not exist yet. */
  night: string;
  rateAlertsPerSec: number;
  seconds: number;
  producers: number;
  apiRatePerSec: number;
  apiClients: number;
  apiMix: Record<QueryKind, number>;
  sampleMs: number;
  /** Producing stops early when the data folder's file system has less free space than this, in bytes. */
  minFreeBytes: number;
  poolPath: string;
  pool: PoolIndex;
  bootstrap: string;
}

export interface Sample {
  /** Seconds since the producers started. */
  t: number;
  produced: number;
  archived: number;
  lag: number;
  freeGiB: number;
  load1: number;
}

export interface PhaseResult {
  topic: string;
  rateRequested: number;
  /** From the start signal to the last producer's end. */
  seconds: number;
  offered: { alerts: number; bytes: number; perSec: number; mbPerSec: number; sendP50Ms: number; sendP99Ms: number; sendMaxMs: number };
  archived: number;
  ingestPerSec: number;
  /** Slope of the produced count over the second half of the phase. */
  offeredSecondHalfPerSec: number;
  /** Slope of the archived count over the second half of the phase. */
  ingestSecondHalfPerSec: number;
  lag: { max: number; final: number; slopeSecondHalf: number; bounded: boolean };
  samples: Sample[];
  api: Extract<ClientLine, { type: 'result' }>;
  apiIntervals: Extract<ClientLine, { type: 'interval' }>[];
  /** Why producing stopped before its time, if it did. */
  cutShort?: string;
  archiverPeakRssMb: number;
  load: { mean: number; max: number };
}

/**
 * A lag that grows by at most this share of the offered rate over the second half counts as bounded:
 * the ingest archives alerts in chunks of a partition at a time, so the lag of a keeping-up ingest
 * still swings by hundreds of alerts and a short phase's slope with it.
 */
export const BOUNDED_SLOPE_SHARE = 0.05;

/** Peak resident memory of a process from /proc (Linux), in MB; 0 where it cannot be read. */
function peakRssMb(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function freeBytes(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

function parseLine<T>(line: string): T | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}

export async function runPhase(ctx: BenchContext, o: PhaseOptions): Promise<PhaseResult> {
  const kafka = createKafka(clusterSchema.parse({ brokers: [o.bootstrap], clientId: 'zads-bench-load' }));
  const topic = nightTopicName(o.night, 1);
  const group = `zads-bench-load-${randomUUID().slice(0, 8)}`;
  mkdirSync(ctx.dataDir, { recursive: true });
  const root = mkdtempSync(join(ctx.dataDir, 'load-'));
  const dataDir = join(root, 'data');
  const configPath = join(root, 'config.json');
  // The API's per-client limit (1,200 requests a minute by default) would answer 429 to the client's steady rate.
  writeFileSync(configPath, JSON.stringify({ api: { rateLimit: { maxRequests: 0 } } }));
  const env = { ...process.env, ZADS_LOG_LEVEL: 'warn' };
  const children: Child[] = [];
  let catalogue: Catalogue | undefined;
  const admin = kafka.admin();
  let topicCreated = false;
  // Every step runs even if one before it fails; the first failure is reported at the end.
  const cleanup = async () => {
    const steps: (() => unknown)[] = [
      () => catalogue?.close(),
      () => Promise.all(children.map((c) => c.stop(5000))),
      () => admin.disconnect(),
      () => topicCreated && deleteTopics(kafka, [topic]),
      async () => {
        const groups = kafka.admin();
        await groups.connect();
        // A group without committed offsets is gone once its last member left: nothing to delete then.
        await groups.deleteGroups([group]).catch(() => undefined);
        await groups.disconnect();
      },
      () => rmSync(root, { recursive: true, force: true }),
    ];
    let failure: unknown;
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        failure ??= err;
      }
    }
    catalogue = undefined;
    if (failure !== undefined) throw failure;
  };
  let cleaning: Promise<void> | undefined;
  const cleanOnce = () => (cleaning ??= cleanup());
  ctx.defer(`load ${o.label}: stop, delete ${topic} and ${root}`, cleanOnce);

  try {
    await admin.connect();
    if ((await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} exists already on ${o.bootstrap}; the load stage makes its own`);
    // Deleted segments are freed after 1 s instead of a minute: the next phase needs the disk. The broker keeps
    // only the last BROKER_KEEP_BYTES of each partition (trimmed every 10 s, ops/services.sh): ten minutes at the
    // peak are ~57 GB in the archive, and a second copy in the broker would not fit a developer's disk. What it
    // keeps is ~1,900 alerts a partition, ~10× the largest ingest lag measured; an alert trimmed before it was
    // archived would show as a lag that never drains.
    await ensureTopic(kafka, {
      topic,
      partitions: PARTITIONS,
      configs: { 'file.delete.delay.ms': '1000', 'retention.bytes': String(BROKER_KEEP_BYTES), 'segment.bytes': String(BROKER_KEEP_BYTES / 4) },
    });
    topicCreated = true;

    const archive = startChild(ctx, `zads archive run (${o.label})`, [
      'bin/zads.js', 'archive', 'run', '--data', dataDir, '--brokers', o.bootstrap, '--topics', `^${topic}$`, '--group', group, '--no-schedule', '--config', configPath,
    ], { cwd: ctx.repoRoot, env });
    children.push(archive);
    await waitForLine(archive, 'err', 'the archive ingest starting', 120_000, (l) => l.startsWith('zads archive run: archiving'));

    const serve = startChild(ctx, `zads serve (${o.label})`, ['bin/zads.js', 'serve', '--data', dataDir, '--port', '0', '--config', configPath], { cwd: ctx.repoRoot, env });
    children.push(serve);
    const listening = await waitForLine(serve, 'out', 'the API listening', 120_000, (l) => l.startsWith('zads serve:'));
    const url = /(http:\/\/[^\s]+)/.exec(listening)?.[1];
    if (!url) throw new Error(`cannot find the URL in "${listening}"`);

    let lastDoneAt = 0;
    let wake = () => {};
    const acked = new Array<number>(o.producers).fill(0);
    const done: Extract<ProducerLine, { type: 'done' }>[] = [];
    const producers: Child[] = [];
    const ready: Promise<string>[] = [];
    for (let k = 0; k < o.producers; k++) {
      const p = startChild(ctx, `load producer ${k} (${o.label})`, [...process.execArgv, PRODUCER_ENTRY], { cwd: ctx.repoRoot, env });
      children.push(p);
      producers.push(p);
      p.onLine('out', (line) => {
        const msg = parseLine<ProducerLine>(line);
        if (msg?.type === 'progress') acked[k] = msg.alerts;
        if (msg?.type === 'done') {
          acked[k] = msg.alerts;
          done.push(msg);
          // The phase ends with the last producer: take the final sample now, not at the next tick.
          if (done.length === o.producers) {
            lastDoneAt = performance.now();
            wake();
          }
        }
      });
      ready.push(waitForLine(p, 'out', 'loading the pool and connecting', 300_000, (l) => l.includes('"ready"')));
      const plan: ProducerPlan = { bootstrap: o.bootstrap, topic, poolPath: o.poolPath, producer: k, producers: o.producers, rateAlertsPerSec: o.rateAlertsPerSec / o.producers };
      p.write(JSON.stringify(plan));
    }
    const client = startChild(ctx, `load api client (${o.label})`, [...process.execArgv, CLIENT_ENTRY], { cwd: ctx.repoRoot, env });
    children.push(client);
    const apiIntervals: PhaseResult['apiIntervals'] = [];
    let apiResult: PhaseResult['api'] | undefined;
    client.onLine('out', (line) => {
      const msg = parseLine<ClientLine>(line);
      if (msg?.type === 'interval') apiIntervals.push(msg);
      if (msg?.type === 'result') apiResult = msg;
    });
    ready.push(waitForLine(client, 'out', 'the API client starting', 300_000, (l) => l.includes('"ready"')));
    const clientPlan: ClientPlan = {
      url,
      cataloguePath: join(dataDir, CATALOGUE_FILE),
      ratePerSec: o.apiRatePerSec,
      clients: o.apiClients,
      mix: o.apiMix,
      coneRadiusDeg: 0.005,
      coneLimit: 100,
      intervalMs: Math.max(5000, o.sampleMs * 5),
      pool: o.pool,
    };
    client.write(JSON.stringify(clientPlan));
    await Promise.all(ready);

    catalogue = new Catalogue(join(dataDir, CATALOGUE_FILE), { readonly: true });
    const archivedNow = () => {
      let n = 0;
      for (let p = 0; p < PARTITIONS; p++) n += Number(catalogue!.position(topic, p) ?? 0n);
      return n;
    };
    const producedNow = async () => (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);

    // Go: the producers stop by themselves at endAtMs; the client runs until told to stop.
    const t0 = performance.now();
    const endAtMs = Date.now() + o.seconds * 1000;
    for (const p of producers) p.write(JSON.stringify({ endAtMs }));
    client.write('go');
    ctx.progress(`${o.label}: ${o.producers} producers at ${Math.round(o.rateAlertsPerSec).toLocaleString('en-US')} alerts/s to ${topic} for ${o.seconds} s; API ${o.apiRatePerSec} req/s on ${url}`, true);

    const samples: Sample[] = [];
    let cutShort: string | undefined;
    let archiverPeak = 0;
    const sample = async () => {
      const [produced, archived] = [await producedNow(), archivedNow()];
      const s: Sample = { t: (performance.now() - t0) / 1000, produced, archived, lag: produced - archived, freeGiB: freeBytes(ctx.dataDir) / GiB, load1: loadavg()[0]! };
      samples.push(s);
      archiverPeak = Math.max(archiverPeak, peakRssMb(archive.proc.pid));
      return s;
    };
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.sampleMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        if (done.length === o.producers) wake();
      });
      if (ctx.signal.aborted) throw new Error('interrupted');
      if (done.length === o.producers) break;
      // A producer that is done exits 0; anything else ending now is a failure.
      for (const c of [archive, serve, client, ...producers]) {
        if (!c.running && (!producers.includes(c) || (await c.exited) !== 0)) {
          throw new Error(`${c.label} exited early (${await c.exited}): ${c.stderrTail().slice(-800)}`);
        }
      }
      const s = await sample();
      const offered = acked.reduce((a, b) => a + b, 0);
      ctx.progress(
        `${o.label} ${s.t.toFixed(0)} s: offered ${Math.round(offered / s.t)}/s, archived ${s.archived.toLocaleString('en-US')} (${Math.round(s.archived / s.t)}/s), lag ${s.lag.toLocaleString('en-US')}; free ${s.freeGiB.toFixed(1)} GiB; load ${s.load1.toFixed(1)}`,
        true,
      );
      if (!cutShort && s.freeGiB * GiB < o.minFreeBytes) {
        cutShort = `stopped producing at ${s.t.toFixed(0)} s of ${o.seconds}: ${s.freeGiB.toFixed(1)} GiB left free, under the ${(o.minFreeBytes / GiB).toFixed(0)} GiB floor`;
        ctx.progress(`${o.label}: ${cutShort}`, true);
        for (const p of producers) p.write('stop');
      }
      if (s.t > o.seconds + 120) throw new Error(`the producers did not stop within 120 s of their end time`);
    }
    const seconds = (lastDoneAt - t0) / 1000;
    const last = await sample();

    client.write('stop');
    await waitForLine(client, 'out', 'the API client result', 120_000, (l) => l.includes('"result"')).catch((err: unknown) => {
      if (!apiResult) throw err;
      return '';
    });
    if (!apiResult) throw new Error('the API client gave no result');

    const offeredAlerts = done.reduce((n, d) => n + d.alerts, 0);
    const offeredBytes = done.reduce((n, d) => n + d.bytes, 0);
    const secondHalf = samples.filter((s) => s.t >= seconds / 2);
    const lagSlope = slope(secondHalf.map((s) => ({ x: s.t, y: s.lag })));
    const offeredPerSec = offeredAlerts / seconds;
    const loads = samples.map((s) => s.load1);
    return {
      topic,
      rateRequested: o.rateAlertsPerSec,
      seconds,
      offered: {
        alerts: offeredAlerts,
        bytes: offeredBytes,
        perSec: offeredPerSec,
        mbPerSec: offeredBytes / 2 ** 20 / seconds,
        sendP50Ms: summarize(done.map((d) => d.sendP50Ms)).p50,
        sendP99Ms: Math.max(...done.map((d) => d.sendP99Ms)),
        sendMaxMs: Math.max(...done.map((d) => d.sendMaxMs)),
      },
      offeredSecondHalfPerSec: slope(secondHalf.map((s) => ({ x: s.t, y: s.produced }))),
      archived: last.archived,
      ingestPerSec: last.archived / seconds,
      ingestSecondHalfPerSec: slope(secondHalf.map((s) => ({ x: s.t, y: s.archived }))),
      lag: {
        max: Math.max(...samples.map((s) => s.lag)),
        final: last.lag,
        slopeSecondHalf: lagSlope,
        bounded: lagSlope <= BOUNDED_SLOPE_SHARE * offeredPerSec,
      },
      samples,
      api: apiResult,
      apiIntervals,
      cutShort,
      archiverPeakRssMb: archiverPeak,
      load: { mean: loads.reduce((a, b) => a + b, 0) / loads.length, max: Math.max(...loads) },
    };
  } finally {
    ctx.progress(`${o.label}: stopping, deleting ${topic} and ${root}`, true);
    await cleanOnce();
  }
}

/** Whether a nightly topic of programid 1 for this night exists on the cluster. */
export async function topicExists(bootstrap: string, night: string): Promise<boolean> {
  const admin = createKafka(clusterSchema.parse({ brokers: [bootstrap], clientId: 'zads-bench-load' })).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(nightTopicName(night, 1));
  } finally {
    await admin.disconnect();
  }
}
