import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ReplayRegistry, createApp, listen } from '../api/index.ts';
import { closeNight, openArchive } from '../archive/index.ts';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import { ArchiveIngest, Mirror } from '../ingest/index.ts';
import { createKafka, deleteTopics, nightTopicName } from '../kafka/index.ts';
import { createLogger } from '../log.ts';
import { fromSimulation, publishNight } from '../produce/index.ts';
import { Replay } from '../replay/index.ts';
import { commandConfig } from './cluster-option.ts';
import { createProgress } from './progress.ts';

interface DemoOptions {
  alerts: string;
  seed: string;
  night?: string;
  data: string;
  port: string;
  replayRate: string;
  exit?: boolean;
  config?: string;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOCAL = new Set(['127.0.0.1:19092', '127.0.0.1:29092', 'localhost:19092', 'localhost:29092']);

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.setTimeout(1000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

function isLocal(c: ClusterConfig): boolean {
  return c.brokers.every((b) => LOCAL.has(b));
}

function todayUtc(): string {
  return new Date().toISOString().slice(0, 10).replaceAll('-', '');
}

async function waitFor(what: string, done: () => boolean, onTick: () => void, timeoutMs = 900_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new ZadsError('SERVICE_UNAVAILABLE', `demo: ${what} did not finish within ${timeoutMs / 1000} s`);
    onTick();
    await new Promise((r) => setTimeout(r, 200));
  }
  onTick();
}

/**
 * `zads demo`: the whole chain on one machine — a simulated night produced to "ipac", mirrored to "uw",
 * archived and closed into its UW tarball, served over HTTP, replayed at a chosen rate — with the
 * measured rate of each stage. Starts the local services if they are not running, and stops what it
 * started on Ctrl-C (or at the end with --exit).
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the whole chain on the local services: produce → mirror → archive → close → serve → replay, with measured rates')
    .option('--alerts <n>', 'alerts in the simulated night', '20000')
    .option('--seed <n>', 'seed of the simulated night', '1')
    .option('--night <YYYYMMDD>', 'night to simulate (default: today, UTC)')
    .option('--data <dir>', 'data folder of the demo archive', '.zads/demo')
    .option('--port <n>', 'port of the API and web pages', '8080')
    .option('--replay-rate <n>', 'replay rate, alerts/s', '1000')
    .option('--exit', 'stop everything after the summary instead of serving until Ctrl-C (the default when stdout is not a terminal)')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (o: DemoOptions) => {
      const config = commandConfig(o.config);
      // The demo's own lines are its output: its log says only errors unless ZADS_LOG_LEVEL asks for more.
      const logger = createLogger({ ...config.log, level: process.env.ZADS_LOG_LEVEL === undefined ? 'error' : config.log.level });
      const count = Number(o.alerts);
      if (!Number.isInteger(count) || count <= 0) throw new ZadsError('CONFIG_INVALID', `--alerts must be a positive whole number, not ${o.alerts}`);
      const night = o.night ?? todayUtc();
      const programid = 1;
      const topic = nightTopicName(night, programid);
      const say = (line: string) => process.stderr.write(`demo: ${line}\n`);
      const cleanups: (() => Promise<unknown> | unknown)[] = [];
      const stopAll = async () => {
        for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => undefined);
        cleanups.length = 0;
      };
      const interrupted = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const rates: { stage: string; alerts: number; seconds: number }[] = [];
      try {
        // 1. Services: the local defaults are started if down (and stopped again at the end).
        const { ipac, uw } = config.clusters;
        if (isLocal(ipac) && isLocal(uw)) {
          const down: string[] = [];
          for (const [name, port] of [['ipac', 19092], ['uw', 29092], ['s3', 9000]] as const) if (!(await portOpen(port))) down.push(name);
          if (down.length > 0) {
            say(`starting local services: ${down.join(' ')} (first time: fetching Kafka and S3Proxy, ~1 minute)`);
            const r = spawnSync('bash', ['ops/services.sh', 'start', ...down], { cwd: REPO_ROOT, stdio: 'inherit' });
            if (r.status !== 0) throw new ZadsError('SERVICE_UNAVAILABLE', 'demo: starting the local services failed (see above)');
            cleanups.push(() => spawnSync('bash', ['ops/services.sh', 'stop', ...down], { cwd: REPO_ROOT, stdio: 'inherit' }));
          }
          // The demo's night is its own: a rerun starts from clean topics (local clusters only).
          await deleteTopics(createKafka(ipac), [topic]);
          await deleteTopics(createKafka(uw), [topic, `${topic}_replay`]);
        }
        const dataDir = `${o.data.replace(/\/$/, '')}/${night}-${randomUUID().slice(0, 6)}`;
        say(`night ${night}: ${count} simulated alerts → ${topic} on ipac (${ipac.brokers.join(',')}); archive in ${dataDir}`);

        // 2. Mirror and archive ingest run while the night is produced, as at the real sites.
        const mirror = new Mirror({ from: ipac, to: uw, topics: new RegExp(`^${topic}$`), name: `demo-${night}`, logger, reportIntervalMs: 0 });
        await mirror.start();
        cleanups.push(() => mirror.close());
        const writer = await openArchive({ dataDir, writer: true, s3: config.s3 });
        cleanups.push(() => writer.close());
        const ingest = new ArchiveIngest({ cluster: uw, archive: writer, topics: new RegExp(`^${topic}$`), groupId: `zads-demo-${night}`, logger, reportIntervalMs: 0 });
        await ingest.start();
        cleanups.push(() => ingest.close());

        const bar = createProgress({ label: 'produce', total: count, unit: 'alerts' });
        const produced = await publishNight({
          cluster: ipac,
          topic,
          messages: fromSimulation({ night, programid, count, seed: Number(o.seed) }),
          onProgress: (p) => bar.update({ done: p.alerts, bytes: p.bytes, seconds: p.seconds }),
          logger,
        });
        bar.stop();
        rates.push({ stage: 'produce (ipac)', alerts: produced.alerts, seconds: produced.seconds });
        const t0 = performance.now();
        const mbar = createProgress({ label: 'mirror + archive', total: count, unit: 'alerts' });
        await waitFor('mirror and archive', () => mirror.stats.records >= count && ingest.stats.alerts >= count, () =>
          mbar.update({ done: Math.min(mirror.stats.records, ingest.stats.alerts), bytes: ingest.stats.bytes, seconds: (performance.now() - t0) / 1000 }),
        );
        mbar.stop();
        rates.push({ stage: 'mirror + archive (after produce)', alerts: count, seconds: (performance.now() - t0) / 1000 });
        await ingest.close();
        await mirror.close();

        // 3. Close the night into its UW tarball.
        const closed = await closeNight(writer, { night, programid });
        rates.push({ stage: 'night close', alerts: closed.alerts, seconds: closed.seconds });
        say(`closed ${closed.key}: ${closed.alerts} alerts, ${(closed.bytes / 2 ** 20).toFixed(0)} MB, md5 ${closed.md5}`);

        // 4. Serve it (its own reader connection), and 5. replay it at the chosen rate.
        const reader = await openArchive({ dataDir, s3: config.s3 });
        cleanups.push(() => reader.close());
        const replays = new ReplayRegistry({ archive: reader, target: uw, logger });
        const app = createApp({ archive: reader, replays, logger });
        const server = await listen(app, { host: '127.0.0.1', port: Number(o.port) });
        cleanups.push(() => server.close());
        const replayArchive = await openArchive({ dataDir });
        cleanups.push(() => replayArchive.close());
        const replay = new Replay({ id: `demo-${night}-${randomUUID().slice(0, 6)}`, archive: replayArchive, selection: { night, programid }, target: uw, pacing: { mode: 'rate', alertsPerSec: Number(o.replayRate) }, logger });
        const rbar = createProgress({ label: `replay → ${replay.topic}`, total: count, unit: 'alerts' });
        const ticker = setInterval(() => {
          const s = replay.status();
          rbar.update({ done: s.sent, bytes: s.bytes, seconds: s.seconds });
        }, 500);
        const report = await replay.run().finally(() => clearInterval(ticker));
        rbar.stop();
        rates.push({ stage: `replay (requested ${o.replayRate}/s)`, alerts: report.sent, seconds: report.seconds });

        const lines = [
          '',
          `ZADS-TS demo — night ${night}, ${count} alerts`,
          ...rates.map((r) => `  ${r.stage.padEnd(36)} ${String(r.alerts).padStart(7)} alerts  ${r.seconds.toFixed(1).padStart(6)} s  ${(r.alerts / r.seconds).toFixed(0).padStart(6)} alerts/s`),
          `  replay publish latency p50 ${report.publishLatencyMs.p50} ms, p99 ${report.publishLatencyMs.p99} ms; pacing error p99 ${report.pacingErrorMs.p99} ms`,
          '',
          `  night tarball   ${server.url}/${closed.key}`,
          `  MD5SUMS         ${server.url}/alerts/public/MD5SUMS`,
          `  API             ${server.url}/v1/nights   (OpenAPI: ${server.url}/v1/openapi.json)`,
          `  replay topic    ${replay.topic} on ${uw.brokers.join(',')}`,
          '',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        // On a terminal the demo keeps serving so the URLs can be opened; piped or in CI it ends by itself.
        if (!o.exit && process.stdout.isTTY) {
          say('serving until Ctrl-C');
          await interrupted;
        }
      } finally {
        await stopAll();
      }
    });
}
