import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, listen } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import type { BenchContext, Stage, StageResult } from '../harness.ts';
import { benchCatalogue } from './api-catalogue.ts';
import type { CatalogueShape } from './api-catalogue.ts';
import type { LoadPlan, LoadResult } from './api-load.ts';

const CLIENT_ENTRY = fileURLToPath(new URL('./api-load.ts', import.meta.url));

const FULL: CatalogueShape = { nights: 40, rows: 5_000_000, alertsPerObject: 20, tarballMB: 1024 };
const QUICK: CatalogueShape = { nights: 30, rows: 200_000, alertsPerObject: 20, tarballMB: 128 };

/** Runs the load client in its own process and returns what it printed. */
async function runClient(ctx: BenchContext, plan: LoadPlan, timeoutMs: number): Promise<LoadResult> {
  const child = spawn(process.execPath, [...process.execArgv, CLIENT_ENTRY], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin!.end(JSON.stringify(plan));
  ctx.defer('stop the api load client', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const onAbort = () => child.kill('SIGKILL');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the load client did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.on('error', reject);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code !== 0) throw new Error(`the load client exited with ${code}`);
    return JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The HTTP API over a simulated catalogue of ≥ 30 nights and 5 M alerts (200 k quick), cached in
 * .zads/bench/: objectId query latency and request rate from a separate client process over loopback,
 * and a night tarball's download rate beside the loopback baseline.
 */
export const apiStage: Stage = {
  name: 'api',
  group: 'api',
  description: 'HTTP API: objectId query p50/p99 and req/s from another process over a 5 M-alert catalogue; night download MB/s vs loopback',
  dependsOn: ['loopback'],
  async run(ctx) {
    const shape = ctx.quick ? QUICK : FULL;
    const dataDir = join(ctx.repoRoot, '.zads', 'bench', ctx.quick ? 'api-catalogue-quick' : 'api-catalogue');
    const cat = await benchCatalogue(ctx, dataDir, shape);
    ctx.progress(cat.built ? `catalogue built in ${cat.buildSeconds.toFixed(0)} s (${dataDir})` : `catalogue reused (${dataDir})`, true);

    const archive = await openArchive({ dataDir });
    const server = await listen(createApp({ archive, config: { rateLimit: { windowSeconds: 60, maxRequests: 0 } } }), { host: '127.0.0.1', port: 0 });
    try {
      const sampleObjects = Array.from({ length: 10_000 }, (_, i) => cat.objectId(Math.floor((i * cat.objects) / 10_000)));
      const plan: LoadPlan = {
        url: server.url,
        objectIds: sampleObjects,
        warmupRequests: ctx.quick ? 200 : 1000,
        latencyRequests: ctx.quick ? 1000 : 5000,
        latencyMaxSeconds: ctx.quick ? 5 : 30,
        loadSeconds: ctx.quick ? 2 : 10,
        concurrency: 8,
        downloadPath: cat.tarballPath,
        downloadRuns: ctx.quick ? 1 : 5,
      };
      ctx.progress('load client running (latency, load, download)', true);
      const r = await runClient(ctx, plan, 180_000);
      const where = `${shape.rows.toLocaleString('en-US')} alerts over ${shape.nights} nights, ~${shape.alertsPerObject} per object (${r.alertsPerAnswer.toFixed(1)} per answer)`;
      const results: StageResult[] = [
        {
          metric: 'objectId query p50',
          value: r.latencyMs.p50,
          unit: 'ms',
          goal: '< 5 ms (alertbase: 250 ms)',
          notes: `${r.latencyMs.count} sequential requests on one keep-alive connection; ${where}`,
        },
        { metric: 'objectId query p99', value: r.latencyMs.p99, unit: 'ms', notes: `mean ${r.latencyMs.mean.toFixed(2)} ms` },
        {
          metric: 'objectId query rate',
          value: r.load.perSecond,
          unit: 'req/s',
          goal: '≥ 2,000 req/s on 2 cores',
          notes: `${plan.concurrency} keep-alive connections for ${r.load.seconds.toFixed(1)} s from a separate process; ${r.load.errors} errors`,
        },
        {
          metric: 'night download',
          value: r.download.mbPerSec,
          unit: 'MB/s',
          baseline: 'loopback:throughput',
          goal: '≥ 0.7× loopback',
          notes: `${shape.tarballMB} MB tarball from the page cache, best of ${r.download.runs.map((x) => x.toFixed(0)).join(', ')} MB/s`,
        },
      ];
      return results;
    } finally {
      await server.close(1000);
      await archive.close();
    }
  },
};
