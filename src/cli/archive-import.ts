import { basename } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { importTarballs, openArchive } from '../archive/index.ts';
import type { FileReport, ImportProgress, ImportReport } from '../archive/index.ts';
import { ZadsError } from '../errors.ts';
import { commandConfig } from './cluster-option.ts';

interface ImportCliOptions {
  data?: string;
  night?: string;
  program?: string;
  json?: boolean;
  config?: string;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function fileLine(f: FileReport): string {
  if (f.error && f.kind === 'unknown') return `${f.file}: ${f.error.code}: ${f.error.describe()}`;
  const where = `night ${f.night} programid ${f.programid}`;
  const counts = `${f.alerts} alert(s) (${f.inserted} new, ${f.duplicates} duplicate(s), ${f.quarantined} quarantined)`;
  const closed = f.closed ? `; closed with ${f.tarball?.key}` : '';
  const failed = f.error ? `; then failed: ${f.error.code}: ${f.error.describe()}` : '';
  return `${f.file}: ${where}: ${counts}, ${mb(f.bytes)} in ${f.seconds.toFixed(1)} s${closed}${failed}`;
}

function summaryLine(r: ImportReport): string {
  const rate = r.seconds > 0 ? ` (${Math.round(r.alerts / r.seconds)} alerts/s, ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s)` : '';
  return (
    `imported ${r.files - r.failed} of ${r.files} file(s): ${r.alerts} alert(s) (${r.inserted} new, ${r.duplicates} duplicate(s)), ` +
    `${r.quarantined} quarantined, ${mb(r.bytes)} in ${r.seconds.toFixed(1)} s${rate}` +
    (r.failed > 0 ? `; ${r.failed} file(s) failed` : '')
  );
}

/** Progress on stderr: a bar per file on a terminal, else one line as each file ends (for logs). */
function progressReporter(): { onProgress: (p: ImportProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) {
    return {
      onProgress: (p) => {
        if (p.done) process.stderr.write(`[${p.index + 1}/${p.count}] ${fileLine(p.done)}\n`);
      },
      stop: () => undefined,
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress: (p) => {
      if (p.done?.kind === 'unknown') {
        stop();
        process.stderr.write(`[${p.index + 1}/${p.count}] ${fileLine(p.done)}\n`);
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `[${p.index + 1}/${p.count}] ${basename(p.file)} [{bar}] {percentage}% | {alerts} alerts | {duration_formatted}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(p.sizeBytes, 1), 0, { alerts: 0 });
      }
      bar.update(Math.min(p.readBytes, Math.max(p.sizeBytes, 1)), { alerts: p.alerts });
      // The finished bar stays on screen; the report after the last one gives each file's numbers.
      if (p.done) stop();
    },
    stop,
  };
}

export function registerArchiveImport(archive: Command): void {
  archive
    .command('import')
    .description('index night tarballs downloaded from the UW public archive (ztf_public_YYYYMMDD.tar.gz, …): catalogue rows, segments, and the night closed with its tarball and MD5SUMS line')
    .argument('<files...>', 'UW night tarballs; with --night and --program also .avro alert files and folders of them')
    .option('--data <dir>', 'data folder of the archive (default: config dataDir)')
    .option('--night <YYYYMMDD>', 'night to import into, instead of the one in each tarball name (give with --program)')
    .option('--program <N>', 'programid to import into (1 public, 2 partnership), with --night')
    .option('--json', 'print the report as JSON on stdout')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (files: string[], opts: ImportCliOptions) => {
      if (opts.night !== undefined && !/^\d{8}$/.test(opts.night)) {
        throw new ZadsError('CONFIG_INVALID', `--night must be a date YYYYMMDD, not ${JSON.stringify(opts.night)}`, { context: { option: 'night' } });
      }
      if (opts.program !== undefined && !/^\d+$/.test(opts.program)) {
        throw new ZadsError('CONFIG_INVALID', `--program must be a whole number (1 public, 2 partnership), not ${JSON.stringify(opts.program)}`, {
          context: { option: 'program' },
        });
      }
      if ((opts.night === undefined) !== (opts.program === undefined)) {
        throw new ZadsError('CONFIG_INVALID', '--night and --program go together: give both or neither', { context: { option: opts.night ? 'program' : 'night' } });
      }
      const config = commandConfig(opts.config);
      const progress = progressReporter();
      const archived = await openArchive({ dataDir: opts.data ?? config.dataDir, writer: true });
      let report: ImportReport;
      try {
        report = await importTarballs(archived, files, {
          ...(opts.night !== undefined ? { night: opts.night, programid: Number(opts.program) } : {}),
          onProgress: progress.onProgress,
        });
      } finally {
        progress.stop();
        await archived.close();
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        for (const f of report.perFile) {
          process.stdout.write(`${f.error ? 'error: ' : ''}${fileLine(f)}\n`);
          for (const note of f.notes) process.stdout.write(`  note: ${note}\n`);
        }
        process.stdout.write(`${summaryLine(report)}\n`);
      }
      process.exitCode = report.failed > 0 ? 1 : 0;
    });
}
