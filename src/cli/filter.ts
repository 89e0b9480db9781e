import type { Command } from 'commander';
import { readInputs } from '../alert/index.ts';
import { openArchive } from '../archive/index.ts';
import { ZadsError } from '../errors.ts';
import { DEFAULT_FILTER_TIMEOUT_MS, FILTER_STREAM_DEFAULTS, FilterStream, ListSink, TarballSink, archivedNight, createJudge, runBatch } from '../filter/index.ts';
import type { BatchItem, BatchReadError, BatchReport, CreateJudgeOptions, FilterStats, FilterStreamStats, Isolation, Judge } from '../filter/index.ts';
import type { ZadsConfig } from '../config/index.ts';
import { createLogger } from '../log.ts';
import type { Logger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import type { Registry } from '../metrics.ts';
import { clusterFrom, commandConfig, topicsArg } from './cluster-option.ts';
import { serveMetrics } from './metrics-server.ts';
import { createProgress } from './progress.ts';
import { positiveArg } from '../options.ts';
import { runUntilStopped } from './until-stopped.ts';

interface FilterCliOptions {
  filter: string[];
  timeoutMs: string;
  isolation: string;
  hangMs?: string;
  python?: string;
  pythonWorkers?: string;
  json?: boolean;
  config?: string;
  // stream mode
  brokers?: string;
  topics: string;
  outputSuffix: string;
  name?: string;
  instance?: string;
  discoveryIntervalMs: string;
  metricsPort?: string;
  // batch mode
  data?: string;
  night?: string;
  program: string;
  from?: string[];
  out?: string;
  list?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function invalid(message: string): ZadsError {
  return new ZadsError('CONFIG_INVALID', message, { context: { key: 'filter' } });
}

/** Where .py filters run: command line, then config (python.interpreter, python.workers), then defaults. */
export function pythonOptions(config: ZadsConfig, opts: { python?: string; pythonWorkers?: string }): CreateJudgeOptions['python'] {
  const workers = opts.pythonWorkers === undefined ? config.python.workers : positiveArg('--python-workers', opts.pythonWorkers);
  return { python: opts.python ?? config.python.interpreter, workers: workers === undefined ? undefined : Math.ceil(workers) };
}

function statsLine(s: FilterStats): string {
  return `${s.name} ${s.version}: ${s.passed} of ${s.tested} alert(s) passed, ${s.errors} error(s), ${s.timeouts} timeout(s)${s.lastError ? ` (last error: ${s.lastError})` : ''}`;
}

export function registerFilter(program: Command): void {
  program
    .command('filter')
    .description('run filter plug-ins over the live nightly topics (exactly once, to <topic>_<filter>) or over archived alerts')
    .requiredOption('--filter <name|path>', 'a predefined filter (purity, extragalactic, bright, solar-system), a .ts/.js module, or a .py module defining alert_filter(alert); repeatable', collect)
    .option('--timeout-ms <ms>', 'longest a filter may take over one alert; a later answer does not pass it', String(DEFAULT_FILTER_TIMEOUT_MS))
    .option('--isolation <worker|none>', 'run the filters in a worker thread (a filter stuck in a loop is ended) or in the main thread', 'worker')
    .option('--hang-ms <ms>', 'with --isolation worker: a synchronous filter call running this long is ended (default: 2 × --timeout-ms)')
    .option('--python <path>', 'the Python interpreter for .py filters, with fastavro (default: config python.interpreter, else the project\'s .venv from ops/python-env.sh)')
    .option('--python-workers <n>', '.py filters: Python host processes judging side by side (default: config python.workers, else the number of cores)')
    .option('--json', 'machine-readable output: JSON lines (listing) or a JSON report')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .option('--brokers <brokers>', 'stream: the cluster read and written, host:port[,…] or "uw"/"ipac" (default: config clusters.uw)')
    .option('--topics <regex>', 'stream: input topics (whole-name match)', FILTER_STREAM_DEFAULTS.topics.source)
    .option('--output-suffix <suffix>', 'stream: output topic = input topic + suffix, {filter} standing for the filter name', FILTER_STREAM_DEFAULTS.outputSuffix)
    .option('--name <name>', 'stream: runner name; runners of one name share the input partitions (consumer group zads-filter-<name>; default: the filter names joined by "+")')
    .option('--instance <id>', 'stream: this process among the runners of one name: transactional id zads-filter-<name>-<id> (default: random)')
    .option('--discovery-interval-ms <ms>', 'stream: how often to look for new input topics', String(FILTER_STREAM_DEFAULTS.discoveryIntervalMs))
    .option('--metrics-port <port>', 'stream: serve Prometheus metrics on 127.0.0.1:<port>/metrics')
    .option('--data <dir>', 'batch: data folder of the archive (default: config dataDir)')
    .option('--night <YYYYMMDD>', 'batch: an archived night')
    .option('--program <N>', 'batch: programid of the night', '1')
    .option('--from <path...>', 'batch: UW tarballs, folders or .avro files instead of an archived night')
    .option('--out <file.tar.gz>', 'batch: write the passing alerts as a UW-layout tarball ({filter} in the name with several filters)')
    .option('--list', 'batch: print one line per passing alert: filter, candid, objectId')
    .action(async (opts: FilterCliOptions) => {
      const batch = opts.night !== undefined || opts.from !== undefined;
      if (!batch && (opts.out !== undefined || opts.list || opts.data !== undefined)) {
        throw invalid('--out, --list and --data are for batch mode: give --night YYYYMMDD or --from PATH… as well');
      }
      if (opts.isolation !== 'worker' && opts.isolation !== 'none') throw invalid(`--isolation is "worker" or "none", not ${JSON.stringify(opts.isolation)}`);
      const config = commandConfig(opts.config);
      const logger = createLogger(config.log);
      const metrics = createMetricsRegistry({ defaultMetrics: !batch });
      // A module that does not load, or is not a filter, is reported here, before anything starts.
      const judge = await createJudge(opts.filter, {
        isolation: opts.isolation as Isolation,
        timeoutMs: positiveArg('--timeout-ms', opts.timeoutMs),
        hangMs: opts.hangMs === undefined ? undefined : positiveArg('--hang-ms', opts.hangMs),
        python: pythonOptions(config, opts),
        logger,
        metrics,
      });
      try {
        if (batch) await filterBatch(opts, judge);
        else await filterStream(opts, judge, logger, metrics);
      } finally {
        await judge.close();
      }
    });
}

async function filterBatch(opts: FilterCliOptions, judge: Judge): Promise<void> {
  if (opts.night !== undefined && opts.from !== undefined) throw invalid('give --night (an archived night) or --from (files), not both');
  if ((opts.out === undefined) === !opts.list) throw invalid('batch mode needs one of --out FILE.tar.gz and --list');
  if (opts.out !== undefined && judge.filters.length > 1 && !opts.out.includes('{filter}')) {
    throw invalid(`with several filters --out must contain {filter}, e.g. --out night_{filter}.tar.gz (got ${opts.out})`);
  }
  const config = commandConfig(opts.config);
  const names = judge.filters.map((f) => f.name);
  let inputs: AsyncIterable<BatchItem | BatchReadError>;
  let close = async (): Promise<void> => undefined;
  if (opts.night !== undefined) {
    const program = Number(opts.program);
    if (!/^\d{8}$/.test(opts.night) || !Number.isInteger(program) || program < 0) throw invalid('--night is YYYYMMDD and --program a whole number');
    const archive = await openArchive({ dataDir: opts.data ?? config.dataDir });
    close = () => archive.close();
    inputs = archivedNight(archive, opts.night, program);
  } else {
    inputs = readInputs(opts.from!);
  }
  const out = process.stdout;
  const tarballs = opts.out !== undefined ? new TarballSink(names.map((n) => opts.out!.replaceAll('{filter}', n))) : undefined;
  const sink = tarballs ?? new ListSink(names, (line) => out.write(`${line}\n`), { json: opts.json });
  const progress = process.stderr.isTTY ? createProgress({ label: 'filter', unit: 'alerts' }) : undefined;
  const t0 = performance.now();
  let report: BatchReport;
  try {
    report = await runBatch({
      judge,
      inputs,
      sink,
      onError: (e) => process.stderr.write(`zads filter: skipped: ${e.code}: ${e.describe()}\n`),
      onProgress: (r) => progress?.update({ done: r.items, bytes: 0, seconds: (performance.now() - t0) / 1000 }),
    });
  } catch (err) {
    await tarballs?.abort();
    throw err;
  } finally {
    progress?.stop();
    await close();
  }
  const written = tarballs ? await tarballs.finish() : [];
  if (opts.json && opts.out !== undefined) {
    out.write(`${JSON.stringify({ ...report, tarballs: written })}\n`);
    return;
  }
  const lines = [
    `${report.items} item(s), ${report.alerts} alert(s) judged; ${report.undecodable} undecodable, ${report.unreadable} unreadable (skipped)`,
    ...report.filters.map((s, i) => `${statsLine(s)}${written[i] ? ` → ${written[i]!.path} (${written[i]!.members} member(s)${written[i]!.duplicates ? `, ${written[i]!.duplicates} duplicate candid(s) left out` : ''})` : ''}`),
  ];
  // With --json listing, stdout holds only the JSON lines.
  (opts.json ? process.stderr : out).write(`${lines.join('\n')}\n`);
}

async function filterStream(opts: FilterCliOptions, judge: Judge, logger: Logger, metrics: Registry): Promise<void> {
  const config = commandConfig(opts.config);
  const topics = topicsArg(opts.topics);
  const cluster = clusterFrom(config, opts.brokers, 'uw');
  const runner = new FilterStream({
    cluster,
    judge,
    topics,
    outputSuffix: opts.outputSuffix,
    name: opts.name,
    ...(opts.instance ? { instance: opts.instance } : {}),
    discoveryIntervalMs: positiveArg('--discovery-interval-ms', opts.discoveryIntervalMs),
    logger,
    metrics,
  });
  const server = opts.metricsPort ? await serveMetrics(metrics, Number(opts.metricsPort)) : undefined;
  try {
    process.exitCode = await runUntilStopped('zads filter', runner, {
      logger,
      what: 'the filter runner',
      started: () =>
        process.stderr.write(
          `zads filter: ${judge.filters.map((f) => f.name).join(', ')} on ${opts.topics} at ${cluster.brokers.join(',')} → <topic>${opts.outputSuffix}, group ${runner.groupId} (Ctrl-C to stop)\n`,
        ),
    });
  } finally {
    await runner.close();
    server?.close();
  }
  printStreamStats(runner.stats, opts.json ?? false);
}

function printStreamStats(stats: FilterStreamStats, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    return;
  }
  const lines = [
    `${stats.consumed} record(s) consumed from ${stats.topics.length} topic(s) in ${stats.transactions} transaction(s); ${stats.undecodable} undecodable (skipped)`,
    ...stats.filters.map((s) => `${statsLine(s)}; ${stats.written[s.name] ?? 0} record(s) written`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
