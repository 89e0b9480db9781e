/**
 * The query side of the load stage, in its own process: a few clients, each on its own keep-alive
 * connection, sending requests at a steady total rate to `zads serve` while the archive under it is
 * being ingested. Four kinds: an object's light curve, one alert by candid (decoded to JSON), a cone
 * search around an alert's position, and the list of nights. The alerts asked for are drawn at random
 * from those archived so far (read from the catalogue, read-only).
 *
 * Protocol: the plan as one JSON line on stdin; "ready" on stdout; a "go" line on stdin starts it and
 * a line "stop" (or stdin closing) ends it. Prints an
 * "interval" line every `intervalMs` and one "result" line at the end, on stdout. A request is timed
 * from its send to the last byte of the answer; a client that falls behind its schedule sends at once
 * but does not burst to catch up (the shortfall shows as the achieved rate).
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { Catalogue } from '../../src/archive/index.ts';
import { LOAD_CANDID_BASE } from './load-alerts.ts';
import { QUERY_KINDS } from './load-protocol.ts';
import type { ClientLine, ClientPlan, KindResult, QueryKind } from './load-protocol.ts';
import { summarize } from './load-stats.ts';

const send = (line: ClientLine): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const first = await lines.next();
if (first.done) process.exit(1);
const plan = JSON.parse(first.value) as ClientPlan;
const target = new URL(plan.url);
// Started before the phase (a process takes seconds to start on a busy machine); the go line starts the clock.
send({ type: 'ready' });
if ((await lines.next()).done) process.exit(1);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) throw new Error(`the load client talks to loopback only, not ${target.hostname}`);
let stopped = false;
void (async () => {
  for (;;) {
    const r = await lines.next().catch(() => ({ done: true as const, value: undefined }));
    if (r.done || r.value === 'stop') {
      stopped = true;
      return;
    }
  }
})();

const agent = new Agent({ keepAlive: true, maxSockets: plan.clients });

function get(path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, path, agent, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end();
  });
}

let seed = 0x1234567;
function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
}

const totalShare = QUERY_KINDS.reduce((s, k) => s + plan.mix[k], 0);
function pickKind(): QueryKind {
  let x = random() * totalShare;
  for (const k of QUERY_KINDS) {
    x -= plan.mix[k];
    if (x < 0) return k;
  }
  return 'nights';
}

// Which alerts to ask for is read from the catalogue (read-only, in this process): a random candid of
// those archived so far, so that every query is for an alert that is there, recent or old.
const catalogue = new Catalogue(plan.cataloguePath, { readonly: true });

function pickArchived(): { candid: bigint; objectId: string } | undefined {
  const max = catalogue.newestCandid();
  if (max === undefined || max < LOAD_CANDID_BASE) return undefined;
  const target = LOAD_CANDID_BASE + BigInt(Math.floor(random() * (Number(max - LOAD_CANDID_BASE) + 1)));
  const row = catalogue.alertFrom(target);
  return row && { candid: row.candid, objectId: row.objectId };
}

function pathOf(kind: QueryKind): string {
  const alert = kind === 'nights' ? undefined : pickArchived();
  if (!alert) return '/v1/nights?programid=1';
  switch (kind) {
    case 'objectId':
      return `/v1/objects/${alert.objectId}`;
    case 'candid':
      return `/v1/alerts/${alert.candid}`;
    case 'cone': {
      const t = plan.pool.templates[Number(alert.candid - LOAD_CANDID_BASE) % plan.pool.size]!;
      return `/v1/cone?ra=${t.ra.toFixed(6)}&dec=${t.dec.toFixed(6)}&radius=${plan.coneRadiusDeg}&limit=${plan.coneLimit}`;
    }
    case 'nights':
      return '/v1/nights?programid=1';
  }
}

const latencies = new Map<QueryKind, number[]>(QUERY_KINDS.map((k) => [k, []]));
const notFound = new Map<QueryKind, number>(QUERY_KINDS.map((k) => [k, 0]));
const errors = new Map<QueryKind, number>(QUERY_KINDS.map((k) => [k, 0]));
const firstErrors: string[] = [];
let interval: number[] = [];
let intervalErrors = 0;

async function one(wanted: QueryKind): Promise<void> {
  const path = pathOf(wanted);
  // Until an alert is archived there is nothing but the nights to ask for.
  const kind = path.startsWith('/v1/nights') ? 'nights' : wanted;
  const t0 = performance.now();
  let status = 0;
  let body: Buffer = Buffer.alloc(0);
  let failure = '';
  try {
    ({ status, body } = await get(path));
  } catch (err) {
    failure = (err as Error).message;
  }
  const ms = performance.now() - t0;
  if (status === 200) {
    latencies.get(kind)!.push(ms);
    interval.push(ms);
  } else if (status === 404 && (kind === 'objectId' || kind === 'candid')) {
    notFound.set(kind, notFound.get(kind)! + 1);
  } else {
    errors.set(kind, errors.get(kind)! + 1);
    intervalErrors++;
    if (firstErrors.length < 5) firstErrors.push(`${path}: ${failure || `${status} ${body.toString('utf8').slice(0, 200)}`}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = performance.now();
const reporter = setInterval(() => {
  const s = summarize(interval);
  send({ type: 'interval', t: (performance.now() - t0) / 1000, requests: interval.length, errors: intervalErrors, p50: s.p50, p99: s.p99, max: s.max });
  interval = [];
  intervalErrors = 0;
}, plan.intervalMs);

const periodMs = (1000 * plan.clients) / plan.ratePerSec;
await Promise.all(
  Array.from({ length: plan.clients }, async (_, c) => {
    let due = t0 + (c * periodMs) / plan.clients;
    while (!stopped) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      await one(pickKind());
      due = Math.max(due + periodMs, performance.now() - periodMs);
    }
  }),
);
clearInterval(reporter);
agent.destroy();
catalogue.close();

const perKind = {} as Record<QueryKind, KindResult>;
for (const k of QUERY_KINDS) perKind[k] = { ...summarize(latencies.get(k)!), notFound: notFound.get(k)!, errors: errors.get(k)! };
const all = QUERY_KINDS.flatMap((k) => latencies.get(k)!);
const overall: KindResult = {
  ...summarize(all),
  notFound: QUERY_KINDS.reduce((s, k) => s + notFound.get(k)!, 0),
  errors: QUERY_KINDS.reduce((s, k) => s + errors.get(k)!, 0),
};
const seconds = (performance.now() - t0) / 1000;
send({ type: 'result', seconds, requests: all.length + overall.notFound + overall.errors, perKind, overall, firstErrors });
process.exit(0);
