/**
 * The client side of the api stage, run as its own process (its own event loop and core) so that the
 * server's numbers are not the client's. Reads its plan as JSON on stdin, talks only to the loopback
 * address it is given, stops by itself (every loop is bounded in count and in time), and prints one JSON
 * line with what it measured.
 *
 *   download:  the night tarball, whole, bytes counted as they arrive (best of `downloadRuns`)
 *   latency:   one keep-alive connection, one request at a time: p50 / p99 of objectId queries
 *   load:      `concurrency` keep-alive connections, each sending its next request when the last answered
 */
import { Agent, request } from 'node:http';

export interface LoadPlan {
  url: string;
  /** objectIds to ask for, picked at random. */
  objectIds: string[];
  warmupRequests: number;
  latencyRequests: number;
  latencyMaxSeconds: number;
  loadSeconds: number;
  concurrency: number;
  downloadPath: string;
  downloadRuns: number;
}

export interface LoadResult {
  latencyMs: { p50: number; p99: number; mean: number; count: number };
  load: { requests: number; seconds: number; perSecond: number; errors: number };
  alertsPerAnswer: number;
  download: { bytes: number; seconds: number; mbPerSec: number; runs: number[] };
}

const input: Buffer[] = [];
for await (const chunk of process.stdin) input.push(chunk as Buffer);
const plan = JSON.parse(Buffer.concat(input).toString('utf8')) as LoadPlan;
const target = new URL(plan.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) throw new Error(`the load client talks to loopback only, not ${target.hostname}`);

function get(agent: Agent, path: string, onChunk?: (n: number) => void): Promise<{ status: number; bytes: number; body?: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (onChunk) onChunk(c.length);
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: onChunk ? undefined : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

let seed = 12345;
function pick(): string {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return plan.objectIds[seed % plan.objectIds.length]!;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main(): Promise<LoadResult> {
  // The download first, while both processes are fresh (no garbage from the load test to collect).
  const runs: number[] = [];
  let best = { bytes: 0, seconds: Infinity };
  for (let r = 0; r < plan.downloadRuns; r++) {
    const agent = new Agent({ keepAlive: false });
    const d0 = performance.now();
    const res = await get(agent, plan.downloadPath, () => undefined);
    const seconds = (performance.now() - d0) / 1000;
    if (res.status !== 200) throw new Error(`download answered ${res.status}`);
    runs.push(res.bytes / 2 ** 20 / seconds);
    if (res.bytes / seconds > best.bytes / best.seconds) best = { bytes: res.bytes, seconds };
  }

  const one = new Agent({ keepAlive: true, maxSockets: 1 });
  let alerts = 0;
  let answers = 0;
  for (let i = 0; i < plan.warmupRequests; i++) await get(one, `/v1/objects/${pick()}`);

  const latencies: number[] = [];
  const latencyEnd = performance.now() + plan.latencyMaxSeconds * 1000;
  while (latencies.length < plan.latencyRequests && performance.now() < latencyEnd) {
    const t0 = performance.now();
    const res = await get(one, `/v1/objects/${pick()}`);
    latencies.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`objectId query answered ${res.status}: ${res.body?.toString('utf8').slice(0, 200)}`);
    alerts += (JSON.parse(res.body!.toString('utf8')) as { count: number }).count;
    answers++;
  }
  one.destroy();
  latencies.sort((a, b) => a - b);

  const many = new Agent({ keepAlive: true, maxSockets: plan.concurrency });
  let requests = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + plan.loadSeconds * 1000;
  await Promise.all(
    Array.from({ length: plan.concurrency }, async () => {
      while (performance.now() < end) {
        const res = await get(many, `/v1/objects/${pick()}`).catch(() => ({ status: 0 }));
        if (res.status === 200) requests++;
        else errors++;
      }
    }),
  );
  const loadSeconds = (performance.now() - t0) / 1000;
  many.destroy();

  return {
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), mean: latencies.reduce((s, x) => s + x, 0) / latencies.length, count: latencies.length },
    load: { requests, seconds: loadSeconds, perSecond: requests / loadSeconds, errors },
    alertsPerAnswer: answers ? alerts / answers : 0,
    download: { bytes: best.bytes, seconds: best.seconds, mbPerSec: best.bytes / 2 ** 20 / best.seconds, runs },
  };
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: Error) => {
    process.stderr.write(`api load client: ${err.message}\n`);
    process.exit(1);
  },
);
