import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { openArchive } from '../archive/index.ts';
import { ZadsError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { REPLAY_DEFAULTS, Replay, ReplayTargetPolicy, replayCluster } from '../replay/index.ts';
import type { Pacing, ReplayReport } from '../replay/index.ts';
import { clusterFrom, commandConfig } from './cluster-option.ts';
import { createProgress } from './progress.ts';
import { createJudge } from '../filter/index.ts';
import type { Judge } from '../filter/index.ts';
import { pythonOptions } from './filter.ts';
import { msToJd } from '../alert/index.ts';
import { positiveArg } from '../options.ts';

interface ReplayCliOptions {
  data?: string;
  night: string;
  program: string;
  from?: string;
  to?: string;
  objects?: string;
  brokers?: string;
  topic?: string;
  allowAnyTopic?: boolean;
  partitions: string;
  speed?: string;
  rate?: string;
  bursts?: boolean;
  max?: string;
  id?: string;
  thenLive?: boolean;
  liveBrokers?: string;
  liveIdleStopMs?: string;
  json?: boolean;
  config?: string;
  filter?: string[];
  python?: string;
  pythonWorkers?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A time bound: a Julian Date (a plain number) or a UTC ISO time ("2018-08-19T04:00:00Z"). */
export function parseTimeBound(name: string, value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(ms)) {
    throw new ZadsError('CONFIG_INVALID', `${name} must be a Julian Date (2458349.75) or a UTC time (2018-08-19T06:00:00Z), not ${JSON.stringify(value)}`, {
      context: { key: name },
    });
  }
  return msToJd(ms);
}

function pacingOf(o: ReplayCliOptions): Pacing {
  if (o.speed !== undefined && o.rate !== undefined) throw new ZadsError('CONFIG_INVALID', 'choose one of --speed and --rate', { context: { key: 'pacing' } });
  if (o.speed !== undefined) return { mode: 'speed', factor: positiveArg('--speed', o.speed) };
  if (o.rate !== undefined) return { mode: 'rate', alertsPerSec: positiveArg('--rate', o.rate), bursts: o.bursts ?? false };
  return { mode: 'max' };
}

function line(r: ReplayReport): string {
  const f = r.filter;
  const filtered = f ? `; filters ${f.names.join(', ')}: ${f.judged} judged, ${f.passed} passed, ${f.failed} failed${f.undecodable ? `, ${f.undecodable} undecodable` : ''}` : '';
  return (
    `replay ${r.id} → ${r.topic}: ${r.state}, ${r.sent} alerts in ${r.seconds.toFixed(1)} s (${r.achievedRate.toFixed(1)}/s` +
    `${r.requestedRate ? ` of ${r.requestedRate}/s requested` : ''}), ${r.fromArchive} from the archive, ${r.fromLive} live; ` +
    `pacing error p50 ${r.pacingErrorMs.p50} ms p99 ${r.pacingErrorMs.p99} ms; publish latency p50 ${r.publishLatencyMs.p50} ms p99 ${r.publishLatencyMs.p99} ms${filtered}`
  );
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('re-publish an archived night (or part of it) to Kafka at a measured rate; resumable; optionally then the live stream')
    .requiredOption('--night <YYYYMMDD>', 'archived night')
    .option('--program <N>', 'programid of the night', '1')
    .option('--data <dir>', 'data folder of the archive (default: config dataDir)')
    .option('--from <time>', 'only alerts from this time: Julian Date or UTC ISO time')
    .option('--to <time>', 'only alerts before this time: Julian Date or UTC ISO time')
    .option('--objects <ids>', 'only these objectIds, comma-separated')
    .option('--brokers <brokers>', 'target cluster: host:port[,…] or "uw"/"ipac" (default: config clusters.uw)')
    .option('--topic <name>', 'target topic (default: ztf_<night>_programid<N>_replay)')
    .option('--allow-any-topic', 'write --topic even if the replay target policy refuses it (nightly, filter output, internal, not in replay.allowedTopics); logged as a warning')
    .option('--partitions <n>', 'partitions of a target topic created here', String(REPLAY_DEFAULTS.partitions))
    .option('--speed <x>', 'original arrival times (Kafka timestamps), x times faster')
    .option('--rate <n>', 'alerts per second')
    .option('--bursts', 'with --rate: send each exposure (alerts sharing a jd) at once')
    .option('--max <n>', 'stop after this many alerts')
    .option('--id <id>', 'replay id; run again with the same id to resume after a stop or crash')
    .option('--then-live', 'after the archive, go on with the live topic from where the archive ends')
    .option('--live-brokers <brokers>', 'cluster of the live topic (default: config clusters.uw)')
    .option('--live-idle-stop-ms <ms>', 'with --then-live: stop after this long with nothing new')
    .option('--filter <name|path>', 're-publish only alerts passing a filter: predefined name, .ts/.js module or .py module (alert_filter); repeatable, any passes', collect)
    .option('--python <path>', 'with .py filters: the Python interpreter (default: config python.interpreter, else the project\'s .venv)')
    .option('--python-workers <n>', 'with .py filters: Python host processes (default: config python.workers, else the number of cores)')
    .option('--json', 'print the final report as one JSON line on stdout')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (o: ReplayCliOptions) => {
      const config = commandConfig(o.config);
      if (!/^\d{8}$/.test(o.night)) throw new ZadsError('CONFIG_INVALID', `--night must be YYYYMMDD, not ${JSON.stringify(o.night)}`, { context: { key: 'night' } });
      const programid = Number(o.program);
      const logger = createLogger(config.log);
      // The target policy decides before the archive is opened or any Kafka client exists (exit 2 when refused).
      const caller = `zads replay --allow-any-topic (user ${process.env.USER ?? process.env.LOGNAME ?? 'unknown'})`;
      const target = ReplayTargetPolicy.fromConfig(config, logger).resolve({ night: o.night, programid, topic: o.topic, caller, override: o.allowAnyTopic === true });
      // On the UW cluster replays log in as their own principal (replay.sasl), whom the brokers' ACLs hold to the replay topics.
      const replayClusterOf = (brokers: string | undefined) => (brokers === 'ipac' ? clusterFrom(config, brokers, 'uw') : replayCluster(config, clusterFrom(config, brokers, 'uw')));
      const archive = await openArchive({ dataDir: o.data ?? config.dataDir, s3: config.s3 });
      if (!archive.catalogue.night(o.night, programid)) {
        await archive.close();
        throw new ZadsError('INPUT_NOT_FOUND', `night ${o.night} programid ${programid} is not in the archive ${archive.dataDir}`, { context: { night: o.night } });
      }
      // A filter that does not load is reported here, before anything is sent.
      let filter: Judge | undefined;
      try {
        filter = o.filter ? await createJudge(o.filter, { python: pythonOptions(config, o), logger }) : undefined;
      } catch (err) {
        await archive.close();
        throw err;
      }
      let replay: Replay;
      try {
        replay = new Replay({
          id: o.id ?? randomUUID(),
          archive,
          selection: {
            night: o.night,
            programid,
            fromJd: o.from === undefined ? undefined : parseTimeBound('--from', o.from),
            toJd: o.to === undefined ? undefined : parseTimeBound('--to', o.to),
            objectIds: o.objects?.split(',').map((s) => s.trim()).filter(Boolean),
          },
          target: replayClusterOf(o.brokers),
          topic: target.topic,
          allowProtectedTopic: target.overridden,
          partitions: positiveArg('--partitions', o.partitions, { integer: true }),
          pacing: pacingOf(o),
          maxAlerts: o.max === undefined ? undefined : positiveArg('--max', o.max, { integer: true, allowZero: true }),
          thenLive: o.thenLive
            ? { liveCluster: replayClusterOf(o.liveBrokers), idleStopMs: o.liveIdleStopMs === undefined ? undefined : positiveArg('--live-idle-stop-ms', o.liveIdleStopMs) }
            : undefined,
          filter,
          logger,
        });
      } catch (err) {
        await filter?.close();
        await archive.close();
        throw err;
      }
      const total = archive.catalogue.countNight(o.night, programid).alerts;
      const progress = createProgress({ label: `replay ${replay.id}`, total: o.thenLive ? undefined : Math.min(total, o.max ? Number(o.max) : total), unit: 'alerts' });
      const ticker = setInterval(() => {
        const s = replay.status();
        progress.update({ done: s.sent, bytes: s.bytes, seconds: s.seconds });
      }, 500);
      const stop = () => replay.cancel();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        process.stderr.write(`replay ${replay.id}: night ${o.night} programid ${programid} → ${replay.topic} (resume with --id ${replay.id})\n`);
        const report = await replay.run();
        clearInterval(ticker);
        progress.update({ done: report.sent, bytes: report.bytes, seconds: report.seconds });
        progress.stop();
        if (o.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else process.stdout.write(`${line(report)}\n`);
      } finally {
        clearInterval(ticker);
        progress.stop();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await filter?.close();
        await archive.close();
      }
    });
}
