import { Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULT_WRITE_VERSION, SHIPPED_VERSIONS } from '../alert/index.ts';
import type { ShippedVersion } from '../alert/index.ts';
import { ZadsError, isZadsError } from '../errors.ts';
import { nightTopicName } from '../kafka/index.ts';
import { createLogger } from '../log.ts';
import { PUBLISH_DEFAULTS, drainSource, fromFiles, fromSimulation, publishNight } from '../produce/index.ts';
import type { DryRunReport, MessageFormat, PublishReport, SourceItem } from '../produce/index.ts';
import { clusterFrom, commandConfig } from './cluster-option.ts';
import { createProgress } from './progress.ts';
import { positiveArg } from '../options.ts';

interface ProduceCliOptions {
  night?: string;
  program: string;
  topic?: string;
  brokers?: string;
  partitions: string;
  simulate?: string;
  seed: string;
  schema: string;
  from?: string[];
  format: string;
  schemaId: string;
  rate?: string;
  exposures?: boolean;
  speed: string;
  connectTimeoutMs?: string;
  dryRun?: boolean;
  json?: boolean;
  config?: string;
}

function wholeNumber(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new ZadsError('CONFIG_INVALID', `${name} must be a whole number ≥ ${min}, not ${JSON.stringify(raw)}`, { context: { key: name } });
  }
  return n;
}

function topicOf(opts: ProduceCliOptions, programid: number): string {
  if (opts.topic) return opts.topic;
  if (!opts.night) throw new ZadsError('CONFIG_INVALID', 'give --night YYYYMMDD (or --topic NAME)', { context: { key: 'night' } });
  try {
    return nightTopicName(opts.night, programid);
  } catch (cause) {
    throw new ZadsError('CONFIG_INVALID', `--night: ${(cause as Error).message}`, { cause, context: { key: 'night' } });
  }
}

function describeReport(r: PublishReport | DryRunReport, topic: string | undefined): string {
  const mb = (r.bytes / (1024 * 1024)).toFixed(1);
  const head = topic
    ? `published ${r.alerts} alert(s) (${mb} MB) to ${topic} in ${r.seconds.toFixed(1)} s`
    : `built ${r.alerts} alert(s) (${mb} MB) in ${r.seconds.toFixed(1)} s without sending`;
  const latency = 'sendLatencyMs' in r ? `; send latency p50 ${r.sendLatencyMs.p50.toFixed(0)} ms, p99 ${r.sendLatencyMs.p99.toFixed(0)} ms, max ${r.sendLatencyMs.max.toFixed(0)} ms` : '';
  return `${head}: ${r.alertsPerSec.toFixed(0)} alerts/s, ${r.mbPerSec.toFixed(1)} MB/s${latency}; ${r.skipped} skipped\n`;
}

export function registerProduce(program: Command): void {
  program
    .command('produce')
    .description('publish a night of alerts to Kafka (topic ztf_YYYYMMDD_programidN, keyed by objectId): simulated, or existing alert files sent unchanged')
    .option('--night <YYYYMMDD>', 'UTC date of the night (names the topic; dates the simulated alerts)')
    .option('--program <n>', 'ZTF program id', '1')
    .option('--topic <name>', 'topic to publish to (default ztf_<night>_programid<program>)')
    .option('--brokers <brokers>', 'cluster: host:port[,…] or "ipac"/"uw" (default: config clusters.ipac)')
    .option('--partitions <n>', 'partitions of the topic when it is created', String(PUBLISH_DEFAULTS.partitions))
    .addOption(new Option('--simulate <count>', 'publish a simulated night of <count> alerts').conflicts('from'))
    .option('--seed <seed>', 'seed of the simulation: the same seed gives the same night, byte for byte', '1')
    .addOption(new Option('--schema <version>', 'schema version of simulated alerts').choices([...SHIPPED_VERSIONS]).default(DEFAULT_WRITE_VERSION))
    .option('--from <paths...>', 'publish existing alerts unchanged: .avro files, folders of them, UW night tarballs')
    .addOption(new Option('--format <format>', 'message format').choices(['container', 'confluent']).default('container'))
    .option('--schema-id <id>', 'schema registry id written in Confluent-format messages', '1')
    .addOption(new Option('--rate <alertsPerSec>', 'smooth rate limit, alerts per second').conflicts('exposures'))
    .option('--exposures', 'send each exposure burst together, spaced as the telescope took them')
    .option('--speed <factor>', 'with --exposures: time compression (1 = real time, 40 = one burst a second)', String(PUBLISH_DEFAULTS.speed))
    .option('--connect-timeout-ms <ms>', 'time to wait for a broker connection')
    .option('--dry-run', 'build and encode the messages without sending them (measures the source)')
    .option('--json', 'print the final report as one JSON line on stdout')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (opts: ProduceCliOptions) => {
      const programid = wholeNumber('--program', opts.program, 0);
      const format = opts.format as MessageFormat;
      let messages: AsyncIterable<SourceItem> | Iterable<SourceItem>;
      let total: number | undefined;
      if (opts.simulate !== undefined) {
        if (!opts.night) throw new ZadsError('CONFIG_INVALID', '--simulate needs --night YYYYMMDD (the date of the simulated alerts)', { context: { key: 'night' } });
        total = wholeNumber('--simulate', opts.simulate, 1);
        topicOf(opts, programid); // validates the night before any work
        messages = fromSimulation({
          night: opts.night,
          programid,
          count: total,
          seed: opts.seed,
          schemaVersion: opts.schema as ShippedVersion,
          format,
          schemaId: wholeNumber('--schema-id', opts.schemaId, 0),
        });
      } else if (opts.from !== undefined && opts.from.length > 0) {
        if (format === 'confluent') {
          throw new ZadsError('CONFIG_INVALID', '--from sends the files exactly as they are (Avro container files); --format confluent applies to --simulate only', {
            context: { key: 'format' },
          });
        }
        messages = fromFiles(opts.from);
      } else {
        throw new ZadsError('CONFIG_INVALID', 'give --simulate COUNT (a simulated night) or --from PATH... (existing alerts)', { context: { key: 'simulate' } });
      }

      const progress = createProgress({ label: opts.dryRun ? 'build' : 'produce', total, unit: 'alerts' });
      let result: PublishReport | DryRunReport;
      let topic: string | undefined;
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        if (opts.dryRun) {
          const show = (r: DryRunReport) => progress.update({ done: r.alerts, bytes: r.bytes, seconds: r.seconds, skipped: r.skipped });
          result = await drainSource(messages, show);
          show(result);
        } else {
          topic = topicOf(opts, programid);
          const config = commandConfig(opts.config);
          const base = clusterFrom(config, opts.brokers, 'ipac');
          const cluster = opts.connectTimeoutMs === undefined ? base : { ...base, connectionTimeoutMs: wholeNumber('--connect-timeout-ms', opts.connectTimeoutMs, 1) };
          // The client logs every reconnect; the command reports failures itself unless debugging.
          const logger = config.log.level === 'debug' || config.log.level === 'trace' ? createLogger(config.log) : undefined;
          try {
            result = await publishNight({
              cluster,
              topic,
              messages,
              partitions: wholeNumber('--partitions', opts.partitions, 1),
              rateAlertsPerSec: opts.rate === undefined ? undefined : positiveArg('--rate', opts.rate),
              pacing: opts.exposures ? 'exposures' : 'asap',
              speed: positiveArg('--speed', opts.speed),
              connectTimeoutMs: cluster.connectionTimeoutMs,
              onProgress: (p) => progress.update({ done: p.alerts, bytes: p.bytes, seconds: p.seconds, skipped: p.skipped }),
              onSkip: (e) => process.stderr.write(`skipped: ${e.code}: ${e.describe()}\n`),
              signal: abort.signal,
              logger,
            });
          } catch (err) {
            if (isZadsError(err, 'SERVICE_UNAVAILABLE')) {
              throw new ZadsError(
                'SERVICE_UNAVAILABLE',
                `cannot publish: ${err.message}. Is the cluster running and reachable? The local clusters start with \`npm run services:start\`.`,
                { cause: err, context: err.context },
              );
            }
            throw err;
          }
        }
      } finally {
        process.removeListener('SIGINT', onSigint);
        progress.stop();
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(topic ? { ...result } : { ...result, dryRun: true })}\n`);
      else process.stdout.write(describeReport(result, topic));
      if ('aborted' in result && result.aborted) process.exitCode = 130;
      else process.exitCode = result.skipped > 0 ? 1 : 0;
    });
}
