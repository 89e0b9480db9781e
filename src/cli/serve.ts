import type { Command } from 'commander';
import { pythonOptions } from './filter.ts';
import { createApp, listen, ReplayRegistry } from '../api/index.ts';
import { openArchive } from '../archive/index.ts';
import { ReplayTargetPolicy, replayCluster } from '../replay/index.ts';
import { ZadsError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { CONFIG_DEFAULTS, commandConfig } from './cluster-option.ts';

interface ServeOptions {
  data?: string;
  host?: string;
  port?: string;
  config?: string;
}

function portOf(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) {
    throw new ZadsError('CONFIG_INVALID', `--port must be a port number (0-65535), not ${JSON.stringify(value)}`, { context: { key: 'port' } });
  }
  return Number(value);
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the archive over HTTP: bulk downloads (UW paths), queries, subsets, replay control, /metrics (runs until stopped)')
    .option('--data <dir>', 'data folder of the archive (default: config dataDir)')
    .option('--host <address>', `address to listen on (default: config api.host, ${CONFIG_DEFAULTS.api.host})`)
    .option('--port <port>', `port to listen on, 0 for any free one (default: config api.port, ${CONFIG_DEFAULTS.api.port})`)
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (o: ServeOptions) => {
      const config = commandConfig(o.config);
      const logger = createLogger(config.log);
      const metrics = createMetricsRegistry({ defaultMetrics: true });
      const archive = await openArchive({ dataDir: o.data ?? config.dataDir, s3: config.s3 });
      const replays = new ReplayRegistry({
        archive,
        target: replayCluster(config, config.clusters.uw),
        policy: ReplayTargetPolicy.fromConfig(config, logger),
        filterDir: config.api.filterDir,
        python: pythonOptions(config, {}),
        metrics,
        logger,
      });
      const api = { ...config.api, host: o.host ?? config.api.host, port: o.port === undefined ? config.api.port : portOf(o.port) };
      const stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      let server;
      try {
        server = await listen(createApp({ archive, config: api, replays, metrics, logger }), api);
      } catch (err) {
        await replays.close();
        await archive.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') {
          throw new ZadsError('CONFIG_INVALID', `cannot listen on ${api.host}:${api.port}: ${code}; choose another --port`, { cause: err, context: { key: 'port' } });
        }
        throw err;
      }
      process.stdout.write(`zads serve: ${archive.dataDir} on ${server.url} (Ctrl-C to stop)\n`);
      await stopped;
      process.stderr.write('zads serve: stopping\n');
      // Each step runs even if one before it fails.
      const steps = [() => server.close(), () => replays.close(), () => archive.close()];
      for (const step of steps) await step().catch((err: unknown) => logger.error({ err }, 'while stopping'));
      process.stderr.write('zads serve: stopped\n');
    });
}
