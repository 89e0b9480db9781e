/**
 * One producer process of the load stage: our publisher (`publishNight`, what `zads produce` runs: an
 * idempotent producer, acks=all, one batch in flight) at its share of the offered rate, sending copies of
 * the pool's alerts (see load-alerts.ts). Its own process, so that several of them together can offer
 * more than one kafkajs producer does here.
 *
 * Protocol: the plan as one JSON line on stdin; "ready" on stdout once the pool is loaded and the
 * producer connected; a "go" line on stdin starts it; it stops at `endAtMs` (wall clock) or on a "stop" line, and prints one "done" line
 * with its report. Progress lines ("progress") come every second.
 */
import { createInterface } from 'node:readline';
import { clusterSchema } from '../../src/config/index.ts';
import { publishNight } from '../../src/produce/index.ts';
import type { SourceItem } from '../../src/produce/index.ts';
import { PoolSlice } from './load-alerts.ts';
import type { ProducerLine, ProducerPlan } from './load-protocol.ts';

const send = (line: ProducerLine): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async (): Promise<string> => {
  const r = await lines.next();
  if (r.done) throw new Error('stdin closed');
  return r.value;
};

async function main(): Promise<void> {
  const plan = JSON.parse(await next()) as ProducerPlan;
  const pool = new PoolSlice(plan.poolPath, plan.producer, plan.producers);
  const stop = new AbortController();

  // publishNight asks for the first message once it is connected: that is when this producer is
  // ready, and the message waits for the go line, so that connecting is not timed.
  async function* messages(): AsyncGenerator<SourceItem> {
    send({ type: 'ready' });
    const go = JSON.parse(await next()) as { endAtMs: number };
    void (async () => {
      for (;;) if ((await next().catch(() => 'stop')) === 'stop') return stop.abort();
    })();
    for (let j = 0; Date.now() < go.endAtMs; j++) yield pool.message(j);
  }
  const report = await publishNight({
    cluster: clusterSchema.parse({ brokers: [plan.bootstrap], clientId: `zads-bench-load-${plan.producer}` }),
    topic: plan.topic,
    messages: messages(),
    rateAlertsPerSec: plan.rateAlertsPerSec,
    signal: stop.signal,
    onProgress: (p) => send({ type: 'progress', alerts: p.alerts, bytes: p.bytes }),
  });
  const l = report.sendLatencyMs;
  // report.seconds counts from the connection; the stage times the phase itself.
  send({ type: 'done', alerts: report.alerts, bytes: report.bytes, seconds: report.seconds, sendP50Ms: l.p50, sendP99Ms: l.p99, sendMaxMs: l.max });
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`load producer: ${err.message}\n`);
    process.exit(1);
  },
);
