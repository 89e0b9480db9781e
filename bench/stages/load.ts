import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Stage, StageResult } from '../harness.ts';
import { buildPool } from './load-alerts.ts';
import { QUERY_KINDS } from './load-protocol.ts';
import type { QueryKind } from './load-protocol.ts';
import { BOUNDED_SLOPE_SHARE, runPhase, topicExists } from './load-phase.ts';
import type { PhaseOptions, PhaseResult } from './load-phase.ts';

const UW_BOOTSTRAP = process.env.ZADS_BENCH_UW ?? '127.0.0.1:29092';
/** ZTF's peak: ~80,000 alerts a minute. */
const ZTF_PEAK_ALERTS_PER_SEC = 1333;
/** What one of our publisher processes offers here with room to spare (a lone one reached ~560/s). */
const ALERTS_PER_SEC_PER_PRODUCER = 300;
const POOL_ALERTS = 1200;
const API_CLIENTS = 6;
const API_MIX: Record<QueryKind, number> = { objectId: 0.35, candid: 0.35, cone: 0.2, nights: 0.1 };
const MB = 2 ** 20;
const GiB = 2 ** 30;

/** A number from the environment, checked; the stage's knobs (the harness's options are shared by all stages). */
function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, not ${JSON.stringify(raw)}`);
  return n;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A random night in the 2030s of which neither this nor the next two nights' topics exist on the cluster. */
async function freshNights(bootstrap: string): Promise<string[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const start = Date.UTC(2031, 0, 1) + Math.floor(Math.random() * 3000) * 86_400_000;
    const nights = [0, 1, 2].map((d) => new Date(start + d * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''));
    const taken = await Promise.all(nights.map((n) => topicExists(bootstrap, n)));
    if (!taken.some(Boolean)) return nights;
  }
  throw new Error(`found no free nightly topic names on ${bootstrap} in 20 tries`);
}

/** Lag every tenth of the phase, for the notes: "0 s 0, 60 s 12,345, …". */
function lagTimeline(p: PhaseResult): string {
  const points: string[] = [];
  let next = 0;
  p.samples.forEach((s, i) => {
    if (s.t + 1e-9 < next && i < p.samples.length - 1) return;
    points.push(`${fmt(s.t)} s ${fmt(s.lag)}`);
    next = s.t + p.seconds / 10;
  });
  return points.join(', ');
}

function lagVerdict(p: PhaseResult): string {
  const share = p.lag.slopeSecondHalf / p.offered.perSec;
  return p.lag.bounded
    ? `bounded: over the second half the lag changed by ${fmt(p.lag.slopeSecondHalf, 1)} alerts/s (${fmt(share * 100, 1)} % of the offered rate; bounded means ≤ ${BOUNDED_SLOPE_SHARE * 100} %)`
    : `NOT bounded: the lag grows at ${fmt(p.lag.slopeSecondHalf)} alerts/s over the second half — the ingest does not keep up with ${fmt(p.offered.perSec)} alerts/s`;
}

function describeStep(p: PhaseResult): string {
  return `${fmt(p.rateRequested)}/s asked for ${fmt(p.seconds)} s: offered ${fmt(p.offered.perSec)}/s, ingested ${fmt(p.ingestPerSec)}/s (second half ${fmt(p.ingestSecondHalfPerSec)}/s), lag max ${fmt(p.lag.max)} final ${fmt(p.lag.final)}, slope ${fmt(p.lag.slopeSecondHalf, 1)}/s → ${p.lag.bounded ? 'bounded' : 'not bounded'}; API p99 ${fmt(p.api.overall.p99, 1)} ms; load ${fmt(p.load.mean, 1)}`;
}

function apiResults(p: PhaseResult): StageResult[] {
  const rows: StageResult[] = [];
  for (const kind of QUERY_KINDS) {
    const k = p.api.perKind[kind];
    rows.push(
      { metric: `api ${kind} p50`, value: k.p50, unit: 'ms', notes: `${fmt(k.count)} answered 200` },
      { metric: `api ${kind} p99`, value: k.p99, unit: 'ms', notes: `max ${fmt(k.max, 1)} ms, mean ${fmt(k.mean, 2)} ms; ${k.notFound} answered 404 for an archived alert, ${k.errors} errors` },
    );
  }
  const all = p.api.overall;
  rows.push(
    { metric: 'api p50', value: all.p50, unit: 'ms', notes: `all kinds, mix ${QUERY_KINDS.map((k) => `${k} ${API_MIX[k] * 100} %`).join(', ')}` },
    { metric: 'api p99', value: all.p99, unit: 'ms' },
    { metric: 'api max', value: all.max, unit: 'ms' },
    {
      metric: 'api request rate',
      value: p.api.requests / p.api.seconds,
      unit: 'req/s',
      notes: `${API_CLIENTS} keep-alive clients from their own process, ${fmt(p.api.requests)} requests in ${fmt(p.api.seconds)} s to zads serve (its own process, archive opened read-only); each query for an alert drawn at random from those archived so far`,
    },
    { metric: 'api errors', value: all.errors, unit: 'requests', notes: p.api.firstErrors.length ? `first: ${p.api.firstErrors.join(' | ')}` : 'none' },
  );
  return rows;
}

/**
 * Archive ingest at ZTF's peak rate while the HTTP API answers queries over the archive being
 * written: produced vs archived over time (the ingest lag), whether the lag stays bounded, API
 * latency per query kind; then, if the lag grew, a shorter phase at the rate the ingest achieved, to
 * find a rate it holds.
 */
export const loadStage: Stage = {
  name: 'load',
  group: 'load',
  description: 'archive ingest held at 1,333 alerts/s (ZTF peak) for 10 min (60 s quick) with API queries: offered/ingest rate, lag, API p50/p99',
  dependsOn: ['kafka-producer-perf'],
  onlyWhenAsked: true,
  async run(ctx) {
    const rate = envNumber('ZADS_BENCH_LOAD_RATE', ZTF_PEAK_ALERTS_PER_SEC, 1);
    const seconds = envNumber('ZADS_BENCH_LOAD_SECONDS', ctx.quick ? 60 : 600, 5);
    const producers = Math.round(envNumber('ZADS_BENCH_LOAD_PRODUCERS', Math.ceil(rate / ALERTS_PER_SEC_PER_PRODUCER), 1));
    const apiRate = envNumber('ZADS_BENCH_LOAD_API_RATE', 30, 0.1);
    const holdSeconds = envNumber('ZADS_BENCH_LOAD_HOLD_SECONDS', ctx.quick ? 30 : 120, 0);
    const minFreeBytes = envNumber('ZADS_BENCH_LOAD_MIN_FREE_GB', 15, 1) * GiB;
    const sampleMs = ctx.quick ? 1000 : 2000;

    // Before this stage starts anything: the machine's load from other work.
    const loadBefore = loadavg()[0]!;
    mkdirSync(ctx.dataDir, { recursive: true });
    const nights = await freshNights(UW_BOOTSTRAP);
    const poolDir = mkdtempSync(join(ctx.dataDir, 'load-pool-'));
    ctx.defer('remove the load pool', () => rmSync(poolDir, { recursive: true, force: true }));
    const poolPath = join(poolDir, 'pool');
    const poolSize = producers * Math.ceil(POOL_ALERTS / producers);
    ctx.progress(`simulating a pool of ${poolSize} alerts (untimed)`, true);
    const pool = buildPool(poolPath, nights[0]!, poolSize, 20_260_101);
    const alertBytes = pool.bytes / pool.size;

    const free = statfsSync(ctx.dataDir);
    const freeBytes = free.bavail * free.bsize;
    const brokerBytes = rate * seconds * alertBytes;
    ctx.progress(
      `${fmt(rate)} alerts/s × ${seconds} s × ${fmt(alertBytes / 1024)} KB = ${fmt(brokerBytes / GiB, 1)} GiB through the broker (which keeps only the last 128 MiB of each partition) into the archive; ` +
        `${fmt(freeBytes / GiB, 1)} GiB free — producing stops early if free space falls under ${fmt(minFreeBytes / GiB)} GiB`,
      true,
    );
    if (freeBytes < minFreeBytes + 2 * GiB) throw new Error(`only ${fmt(freeBytes / GiB, 1)} GiB free on ${ctx.dataDir}; the load stage keeps ${fmt(minFreeBytes / GiB)} GiB free (ZADS_BENCH_LOAD_MIN_FREE_GB)`);

    const base: Omit<PhaseOptions, 'label' | 'night' | 'rateAlertsPerSec' | 'seconds'> = {
      producers,
      apiRatePerSec: apiRate,
      apiClients: API_CLIENTS,
      apiMix: API_MIX,
      sampleMs,
      minFreeBytes,
      poolPath,
      pool: { size: pool.size, objects: pool.objects, templates: pool.templates },
      bootstrap: UW_BOOTSTRAP,
    };
    const peak = await runPhase(ctx, { ...base, label: 'peak', night: nights[0]!, rateAlertsPerSec: rate, seconds });

    // The highest rate held: the offered one if its lag stayed bounded; else what the ingest achieved, then 3/4 of that.
    const steps: PhaseResult[] = [];
    let held: PhaseResult | undefined = peak.lag.bounded ? peak : undefined;
    let tryRate = peak.ingestSecondHalfPerSec > 0 ? peak.ingestSecondHalfPerSec : peak.ingestPerSec;
    for (let step = 0; !held && holdSeconds > 0 && step < (ctx.quick ? 1 : 2); step++) {
      const p = await runPhase(ctx, { ...base, label: `hold ${step + 1}`, night: nights[step + 1]!, rateAlertsPerSec: Math.max(1, Math.round(tryRate)), seconds: holdSeconds });
      steps.push(p);
      if (p.lag.bounded) held = p;
      tryRate = 0.75 * Math.min(p.ingestSecondHalfPerSec > 0 ? p.ingestSecondHalfPerSec : p.ingestPerSec, tryRate);
    }

    const resultsDir = join(ctx.repoRoot, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const timelinePath = join(resultsDir, `load-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      timelinePath,
      `${JSON.stringify({ options: { rate, seconds, producers, apiRate, holdSeconds, minFreeBytes, alertBytes, cpus: availableParallelism(), loadBefore }, phases: [peak, ...steps].map((p, i) => ({ label: i === 0 ? 'peak' : `hold ${i}`, ...p })) }, null, 1)}\n`,
    );

    const short = peak.cutShort ? ` — ${peak.cutShort}` : '';
    const results: StageResult[] = [
      {
        metric: 'offered rate',
        value: peak.offered.perSec,
        unit: 'alerts/s',
        goal: `${fmt(rate)} alerts/s asked (ZTF peak 1,333)`,
        notes:
          `${producers} producer processes (our publisher, as zads produce: idempotent, acks=all, one batch in flight each) on a 16-partition topic of "uw", ` +
          `${fmt(peak.offered.alerts)} alerts of ${fmt(alertBytes / 1024)} KB in ${fmt(peak.seconds)} s; send latency p50 ${fmt(peak.offered.sendP50Ms)} ms, p99 ${fmt(peak.offered.sendP99Ms)} ms${short}`,
      },
      { metric: 'offered throughput', value: peak.offered.mbPerSec, unit: 'MB/s', baseline: 'kafka-producer-perf:throughput', notes: 'baseline: Kafka\'s own producer on the "ipac" broker, same machine' },
      {
        metric: 'ingest rate',
        value: peak.ingestPerSec,
        unit: 'alerts/s',
        goal: '= the offered rate (lag bounded)',
        notes: `zads archive run (child process): ${fmt(peak.archived)} alerts archived while producing; second half ${fmt(peak.ingestSecondHalfPerSec)} alerts/s`,
      },
      { metric: 'ingest throughput', value: (peak.ingestPerSec * alertBytes) / MB, unit: 'MB/s', baseline: 'kafka-producer-perf:throughput' },
      { metric: 'ingest lag max', value: peak.lag.max, unit: 'alerts', notes: `produced (high watermarks) − archived (catalogue positions), every ${sampleMs / 1000} s: ${lagTimeline(peak)}; all samples in ${timelinePath}` },
      { metric: 'ingest lag final', value: peak.lag.final, unit: 'alerts', notes: `when producing stopped: ${fmt(peak.lag.final / Math.max(peak.ingestPerSec, 1))} s of ingest behind` },
      { metric: 'ingest lag slope', value: peak.lag.slopeSecondHalf, unit: 'alerts/s', goal: '≈ 0 (bounded)', notes: lagVerdict(peak) },
      ...apiResults(peak),
      { metric: 'archiver peak RSS', value: peak.archiverPeakRssMb, unit: 'MB', goal: '≤ 512 MB', notes: 'VmHWM of the zads archive run process' },
      {
        metric: 'load average',
        value: peak.load.mean,
        unit: '1-min',
        notes: `mean over the phase, max ${fmt(peak.load.max, 1)}; ${fmt(loadBefore, 1)} before the stage started anything (other work on the machine); ${availableParallelism()} cores shared with the brokers`,
      },
    ];
    if (held === peak) {
      results.push({ metric: 'held rate', value: peak.offered.perSec, unit: 'alerts/s', notes: 'the ingest kept up with the offered rate: no slower phase needed' });
    } else if (steps.length > 0) {
      const best = held ?? steps[steps.length - 1]!;
      results.push(
        {
          metric: 'held rate',
          value: held ? held.offered.perSec : 0,
          unit: 'alerts/s',
          notes: `${held ? 'highest offered rate with a bounded lag' : `no rate held (0 here): the lag grew even at ${fmt(best.offered.perSec)}/s`}; fresh topic and archive, same API load: ${steps.map(describeStep).join(' | ')}`,
        },
        { metric: 'held throughput', value: held ? (held.offered.perSec * alertBytes) / MB : 0, unit: 'MB/s', baseline: 'kafka-producer-perf:throughput' },
        { metric: 'held api p99', value: best.api.overall.p99, unit: 'ms', notes: `p50 ${fmt(best.api.overall.p50, 2)} ms, max ${fmt(best.api.overall.max, 1)} ms, ${best.api.overall.errors} errors` },
      );
    }
    return results;
  },
};
