import type { Command } from 'commander';
import { ZadsError } from '../errors.ts';
import { MIRROR_DEFAULTS, Mirror } from '../ingest/index.ts';
import { createLogger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { clusterFrom, commandConfig } from './cluster-option.ts';
import { serveMetrics } from './metrics-server.ts';
import { positiveArg } from '../options.ts';

interface MirrorCliOptions {
  from?: string;
  to?: string;
  topics?: string;
  name: string;
  instance?: string;
  discoveryIntervalMs: string;
  metricsPort?: string;
  config?: string;
}

export function registerMirror(program: Command): void {
  program
    .command('mirror')
    .description('copy the nightly topics from the IPAC cluster to the UW cluster, exactly once, finding new topics within seconds')
    .option('--from <brokers>', 'source cluster: host:port[,…] or "ipac" (default: config clusters.ipac)')
    .option('--to <brokers>', 'target cluster: host:port[,…] or "uw" (default: config clusters.uw)')
    .option('--topics <regex>', 'topics to mirror (whole-name match)', MIRROR_DEFAULTS.topics.source)
    .option('--name <name>', 'mirror name: mirrors of one name share the source partitions (consumer group zads-mirror-<name>); positions kept on the target', MIRROR_DEFAULTS.name)
    .option('--instance <id>', 'this process among the mirrors of one name: transactional id zads-mirror-<name>-<id>; a restart with the same id fences the old one at once (default: random)')
    .option('--discovery-interval-ms <ms>', 'how often to look for new source topics', String(MIRROR_DEFAULTS.discoveryIntervalMs))
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (opts: MirrorCliOptions) => {
      const config = commandConfig(opts.config);
      const logger = createLogger(config.log);
      let topics: RegExp;
      try {
        topics = new RegExp(opts.topics ?? '');
      } catch (cause) {
        throw new ZadsError('CONFIG_INVALID', `--topics is not a valid regular expression: ${(cause as Error).message}`, { cause });
      }
      const metrics = createMetricsRegistry({ defaultMetrics: true });
      const mirror = new Mirror({
        from: clusterFrom(config, opts.from, 'ipac'),
        to: clusterFrom(config, opts.to, 'uw'),
        topics,
        name: opts.name,
        ...(opts.instance ? { instance: opts.instance } : {}),
        discoveryIntervalMs: positiveArg('--discovery-interval-ms', opts.discoveryIntervalMs),
        logger,
        metrics,
      });
      const server = opts.metricsPort ? await serveMetrics(metrics, Number(opts.metricsPort)) : undefined;
      const stopped = new Promise<number>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping the mirror');
          resolve(0);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        mirror.onFailure((err) => {
          process.stderr.write(`zads mirror: ${err.describe()}\n`);
          resolve(1);
        });
      });
      try {
        await mirror.start();
        process.stderr.write(`zads mirror: mirroring ${opts.topics} from ${clusterFrom(config, opts.from, 'ipac').brokers.join(',')} to ${clusterFrom(config, opts.to, 'uw').brokers.join(',')} (Ctrl-C to stop)\n`);
        process.exitCode = await stopped;
      } finally {
        await mirror.close();
        server?.close();
      }
    });
}
