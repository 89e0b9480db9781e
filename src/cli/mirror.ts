import type { Command } from 'commander';
import { MIRROR_DEFAULTS, Mirror } from '../ingest/index.ts';
import { createLogger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { clusterFrom, commandConfig, topicsArg } from './cluster-option.ts';
import { serveMetrics } from './metrics-server.ts';
import { positiveArg } from '../options.ts';
import { runUntilStopped } from './until-stopped.ts';

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
      const topics = topicsArg(opts.topics);
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
      try {
        process.exitCode = await runUntilStopped('zads mirror', mirror, {
          logger,
          what: 'the mirror',
          started: () =>
            process.stderr.write(`zads mirror: mirroring ${opts.topics} from ${clusterFrom(config, opts.from, 'ipac').brokers.join(',')} to ${clusterFrom(config, opts.to, 'uw').brokers.join(',')} (Ctrl-C to stop)\n`),
        });
      } finally {
        await mirror.close();
        server?.close();
      }
    });
}
