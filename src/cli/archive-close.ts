import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CATALOGUE_FILE, closeIdleNights, closeNight, openArchive, uploadNight } from '../archive/index.ts';
import type { Archive, CloseProgress, CloseReport, UploadReport } from '../archive/index.ts';
import type { ZadsConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import { CONFIG_DEFAULTS, commandConfig } from './cluster-option.ts';
import { createProgress } from './progress.ts';
import type { Progress } from './progress.ts';

interface CloseCliOptions {
  data?: string;
  night?: string;
  program: string;
  allIdle?: boolean;
  force?: boolean;
  upload?: boolean;
  gzipLevel?: string;
  json?: boolean;
  config?: string;
}

/** The data folder of an existing archive: a command that reads or seals nights must not create one. */
export function existingDataDir(option: string | undefined, config: ZadsConfig): string {
  const dataDir = resolve(option ?? config.dataDir);
  if (!existsSync(join(dataDir, CATALOGUE_FILE))) {
    throw new ZadsError('INPUT_NOT_FOUND', `no archive in ${dataDir} (no ${CATALOGUE_FILE}): give --data DIR or set dataDir in the config`, {
      context: { file: dataDir },
    });
  }
  return dataDir;
}

export function programOption(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new ZadsError('CONFIG_INVALID', `--program must be a whole number (1 public, 2 partnership), not ${JSON.stringify(value)}`, { context: { option: 'program' } });
  }
  return Number(value);
}

function reportLine(r: CloseReport): string {
  const what = `night ${r.night} programid ${r.programid}`;
  if (r.skipped) return `${what} is closed already (${r.key}, ${r.alerts} alert(s), MD5 ${r.md5}); --force builds it again`;
  const state = r.closed ? (r.rebuilt ? 'closed again' : 'closed') : `written but left open (alerts kept arriving through ${r.attempts} attempts)`;
  return (
    `${what} ${state}: ${r.alerts} alert(s), ${(r.alertBytes / 1e6).toFixed(1)} MB → ${r.key} ` +
    `(${(r.bytes / 1e6).toFixed(1)} MB, MD5 ${r.md5}) in ${r.seconds.toFixed(2)} s, ${r.mbPerSec.toFixed(1)} MB/s`
  );
}

function uploadLine(u: UploadReport): string {
  const sent = u.objects.filter((o) => !o.skipped).length;
  return `  uploaded ${sent} object(s), ${(u.bytes / 1e6).toFixed(1)} MB in ${u.seconds.toFixed(2)} s; stored ${u.stored}${u.complete ? '' : ' (the night changed meanwhile: upload again)'}`;
}

/** Progress of each close on stderr (a bar on a terminal, else a line every few seconds), from its first member on. */
function closeProgress(): { onProgress: (p: CloseProgress) => void; stop: () => void } {
  let progress: Progress | undefined;
  let started = performance.now();
  const stop = (): void => {
    progress?.stop();
    progress = undefined;
    started = performance.now();
  };
  return {
    onProgress(p) {
      progress ??= createProgress({ label: `close ${p.night}/${p.programid}`, total: p.totalAlerts, unit: 'alerts' });
      progress.update({ done: p.alerts, bytes: p.alertBytes, seconds: (performance.now() - started) / 1000 });
      if (p.alerts === p.totalAlerts) stop();
    },
    stop,
  };
}

async function maybeUpload(archive: Archive, config: ZadsConfig, r: CloseReport, upload: boolean | undefined): Promise<UploadReport | undefined> {
  if (!upload || !r.closed) return undefined;
  return uploadNight(archive, { night: r.night, programid: r.programid, partSizeBytes: config.s3?.partSizeBytes });
}

export function registerArchiveClose(archive: Command): void {
  archive
    .command('close')
    .description('close a night: write its UW tarball (<candid>.avro members), check it, update MD5SUMS and seal the night in the catalogue')
    .option('--data <dir>', 'data folder of the archive (default: config dataDir)')
    .option('--night <YYYYMMDD>', 'the night to close')
    .option('--program <N>', 'programid of the night (1 public, 2 partnership)', '1')
    .option('--all-idle', 'close every open night idle for archive.closeIdleMinutes (config) instead of one --night')
    .option('--force', 'build the tarball again even if the night is closed already')
    .option('--upload', 'upload each night closed to S3 (config s3) afterwards')
    .option('--gzip-level <0-9>', `gzip level of the tarball (default: config archive.closeGzipLevel, ${CONFIG_DEFAULTS.archive.closeGzipLevel})`)
    .option('--json', 'print the report(s) as JSON on stdout')
    .option('--config <file>', 'JSON config file (default $ZADS_CONFIG)')
    .action(async (opts: CloseCliOptions) => {
      if ((opts.night === undefined) === !opts.allIdle) {
        throw new ZadsError('CONFIG_INVALID', 'give either --night YYYYMMDD (with --program N) or --all-idle', { context: { option: 'night' } });
      }
      const programid = programOption(opts.program);
      const config = commandConfig(opts.config);
      const gzipLevel = opts.gzipLevel === undefined ? config.archive.closeGzipLevel : Number(opts.gzipLevel);
      if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) {
        throw new ZadsError('CONFIG_INVALID', `--gzip-level must be 0 to 9, not ${JSON.stringify(opts.gzipLevel)}`, { context: { option: 'gzip-level' } });
      }
      if (opts.upload && !config.s3) throw new ZadsError('CONFIG_INVALID', '--upload needs an S3 store: set "s3" in the config', { context: { key: 's3' } });
      const archived = await openArchive({ dataDir: existingDataDir(opts.data, config), s3: config.s3, writer: true });
      const progress = closeProgress();
      try {
        if (opts.night !== undefined) {
          const report = await closeNight(archived, { night: opts.night, programid, force: opts.force, gzipLevel, onProgress: progress.onProgress });
          progress.stop();
          const uploaded = await maybeUpload(archived, config, report, opts.upload);
          if (opts.json) process.stdout.write(`${JSON.stringify(uploaded ? { ...report, upload: uploaded } : report, null, 2)}\n`);
          else process.stdout.write(`${reportLine(report)}\n${uploaded ? `${uploadLine(uploaded)}\n` : ''}`);
          process.exitCode = report.closed ? 0 : 1;
          return;
        }
        const result = await closeIdleNights(archived, {
          idleMinutes: config.archive.closeIdleMinutes,
          close: { gzipLevel, onProgress: progress.onProgress },
          onClosed: () => progress.stop(),
        });
        const uploads: UploadReport[] = [];
        for (const r of result.closed) {
          const u = await maybeUpload(archived, config, r, opts.upload);
          if (u) uploads.push(u);
        }
        const failed = result.failed.map((f) => ({ night: f.night, programid: f.programid, error: f.error.toJSON() }));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ closed: result.closed, failed, uploads }, null, 2)}\n`);
        } else {
          if (result.closed.length === 0 && failed.length === 0) process.stdout.write(`no night idle for ${config.archive.closeIdleMinutes} minutes\n`);
          for (const r of result.closed) process.stdout.write(`${reportLine(r)}\n`);
          for (const u of uploads) process.stdout.write(`${uploadLine(u)}\n`);
          for (const f of result.failed) process.stdout.write(`error: night ${f.night} programid ${f.programid}: ${f.error.code}: ${f.error.describe()}\n`);
        }
        process.exitCode = result.failed.length > 0 || result.closed.some((r) => !r.closed) ? 1 : 0;
      } finally {
        progress.stop();
        await archived.close();
      }
    });
}
