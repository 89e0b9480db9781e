import type { Command } from 'commander';
import { openArchive, startCloseSchedule } from '../archive/index.ts';
import { ARCHIVE_INGEST_DEFAULTS, ArchiveIngest } from '../ingest/index.ts';
import { createLogger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { clusterFrom, commandConfig, topicsArg } from './cluster-option.ts';
import { serveMetrics } from './metrics-server.ts';
import { positiveArg } from '../options.ts';
import { runUntilStopped } from './until-stopped.ts';

interface RunOptions {
  brokers?: string;
  data?: string;
  topics: string;
  group: string;
  discoveryIntervalMs: string;
  metricsPort?: string;
  config?: string;
  schedule: boolean;
}

export function registerArchiveRun(archive: Command): void {
  archive
    .command('run')
    .description('archive the nightly topics of the UW cluster into segments and the catalogue, exactly once (runs until stopped)')
    .option('--brokers <brokers>', 'cluster to read: host:port[,…] or "uw" (default: config clusters.uw)')
    .option('--data <dir>', 'data folder of the archive (default: config dataDir)')
    .option('--topics <regex>', 'nightly topics to archive (whole-name match)', ARCHIVE_INGEST_DEFAULTS.topics.source)
    .option('--group <id>', 'consumer group on the cluster', ARCHIVE_INGEST_DEFAULTS.groupId)
    .option('--discovery-interval-ms <ms>', 'how often to look for new nightly topics', String(ARCHIVE_INGEST_DEFAULTS.discoveryIntervalMs))
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics')
    .option('--no-schedule', 'do not close idle nights on the configured schedule (archive.closeSchedule, UTC)')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (opts: RunOptions) => {
      const config = commandConfig(opts.config);
      const logger = createLogger(config.log);
      const topics = topicsArg(opts.topics);
      const cluster = clusterFrom(config, opts.brokers, 'uw');
      const metrics = createMetricsRegistry({ defaultMetrics: true });
      const archived = await openArchive({ dataDir: opts.data ?? config.dataDir, s3: config.s3, writer: true });
      const ingest = new ArchiveIngest({
        cluster,
        archive: archived,
        topics,
        groupId: opts.group,
        discoveryIntervalMs: positiveArg('--discovery-interval-ms', opts.discoveryIntervalMs),
        logger,
        metrics,
      });
      const server = opts.metricsPort ? await serveMetrics(metrics, Number(opts.metricsPort)) : undefined;
      // Closing idle nights (and, with S3, uploading them and pruning old local copies) runs in this
      // process: it is the one writer of the data folder.
      const schedule = opts.schedule
        ? startCloseSchedule(archived, {
            cronExpression: config.archive.closeSchedule,
            idleMinutes: config.archive.closeIdleMinutes,
            close: { gzipLevel: config.archive.closeGzipLevel },
            remote: config.s3 ? { keepLocalNights: config.archive.keepLocalNights, partSizeBytes: config.s3.partSizeBytes } : undefined,
            logger,
            onClosed: (r) => logger.info({ report: r }, 'night closed'),
          })
        : undefined;
      try {
        process.exitCode = await runUntilStopped('zads archive run', ingest, {
          logger,
          what: 'the archive ingest',
          started: () => process.stderr.write(`zads archive run: archiving ${opts.topics} from ${cluster.brokers.join(',')} into ${archived.dataDir} (Ctrl-C to stop)\n`),
        });
        const s = ingest.stats;
        process.stderr.write(`zads archive run: stopped; ${s.alerts} alerts archived, ${s.duplicates} duplicates, ${s.quarantined} quarantined\n`);
      } finally {
        await schedule?.stop();
        await ingest.close();
        await archived.close();
        server?.close();
      }
    });
}
