import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CONTAINER_MAGIC, isGzipFile } from '../../alert/index.ts';
import { ZadsError, isZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { parseTarballName } from '../layout.ts';
import { importAlertFiles } from './import-files.ts';
import { emptyReport, importTarball } from './import-tarball.ts';
import type { InputHooks, TarballTarget } from './import-tarball.ts';
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_MEMBERS } from './types.ts';
import type { FileReport, ImportOptions, ImportReport } from './types.ts';

const NAME_PATTERNS = 'ztf_public_YYYYMMDD.tar.gz, ztf_partnership_YYYYMMDD.tar.gz or ztf_programidN_YYYYMMDD.tar.gz';

function checkOptions(options: ImportOptions): { target?: TarballTarget; batchMembers: number; batchBytes: number } {
  const bad = (option: string, message: string): ZadsError =>
    new ZadsError('CONFIG_INVALID', `import option ${option} ${message}`, { context: { option } });
  const { night, programid } = options;
  if ((night === undefined) !== (programid === undefined)) throw bad(night === undefined ? 'night' : 'programid', 'must be given with the other (night and programid)');
  if (night !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec(night);
    const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
    if (!date || date.getUTCDate() !== Number(m![3]) || date.getUTCMonth() !== Number(m![2]) - 1) {
      throw bad('night', `must be a date YYYYMMDD, not ${JSON.stringify(night)}`);
    }
  }
  if (programid !== undefined && (!Number.isInteger(programid) || programid < 0)) {
    throw bad('programid', `must be a whole number ≥ 0, not ${JSON.stringify(programid)}`);
  }
  const batchMembers = options.batchMembers ?? DEFAULT_BATCH_MEMBERS;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!Number.isInteger(batchMembers) || batchMembers < 1) throw bad('batchMembers', 'must be a whole number ≥ 1');
  if (!Number.isInteger(batchBytes) || batchBytes < 1) throw bad('batchBytes', 'must be a whole number ≥ 1');
  return { target: night !== undefined ? { night, programid: programid! } : undefined, batchMembers, batchBytes };
}

async function startsWithContainerMagic(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(CONTAINER_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(CONTAINER_MAGIC);
  } finally {
    await fh.close();
  }
}

function needsTarget(file: string, what: string): ZadsError {
  return new ZadsError('INPUT_UNSUPPORTED', `${file} is ${what}: give the night and programid to import it into (--night YYYYMMDD --program N)`, {
    context: { file },
  });
}

/** Decides what an input is and imports it; input problems become the report's error, not a throw. */
async function importOne(archive: Archive, file: string, target: TarballTarget | undefined, hooks: InputHooks, info: Stats): Promise<FileReport> {
  if (info.isDirectory()) {
    if (!target) throw needsTarget(file, 'a folder of alert files');
    return importAlertFiles(archive, file, target, hooks);
  }
  if (!info.isFile()) throw new ZadsError('INPUT_UNSUPPORTED', `${file} is not a regular file or folder`, { context: { file } });
  if (await isGzipFile(file)) {
    const night = target ?? parseTarballName(basename(file));
    if (!night) {
      throw new ZadsError(
        'INPUT_UNSUPPORTED',
        `cannot tell the night of ${file} from its name: expected ${NAME_PATTERNS}; or give the night and programid (--night YYYYMMDD --program N)`,
        { context: { file } },
      );
    }
    return importTarball(archive, file, night, hooks);
  }
  if (await startsWithContainerMagic(file)) {
    if (!target) throw needsTarget(file, 'a single alert file, not a night tarball');
    return importAlertFiles(archive, file, target, hooks);
  }
  throw new ZadsError('INPUT_UNSUPPORTED', `${file} is neither a gzipped UW night tarball (${NAME_PATTERNS}) nor an Avro alert file`, {
    context: { file },
  });
}

/**
 * Builds catalogue and storage from UW night tarballs downloaded from the public archive (and, with an
 * explicit night and programid, from plain `.avro` files and folders of them). Each input is imported
 * on its own: a missing, unreadable or damaged input is reported in its entry and the others go on; a
 * storage failure stops the import. Running it again on the same files records nothing twice.
 */
export async function importTarballs(archive: Archive, files: readonly string[], options: ImportOptions = {}): Promise<ImportReport> {
  const { target, batchMembers, batchBytes } = checkOptions(options);
  const started = performance.now();
  const report: ImportReport = { files: files.length, failed: 0, alerts: 0, inserted: 0, duplicates: 0, quarantined: 0, bytes: 0, seconds: 0, perFile: [] };
  for (const [index, file] of files.entries()) {
    const fileStarted = performance.now();
    let sizeBytes = 0;
    let entry: FileReport;
    try {
      let info: Stats;
      try {
        info = await stat(file);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : (cause as Error).message;
        throw new ZadsError('INPUT_NOT_FOUND', `cannot read ${file}: ${why}`, { cause, context: { file } });
      }
      sizeBytes = info.isFile() ? info.size : 0;
      const hooks: InputHooks = {
        batchMembers,
        batchBytes,
        onMember: (readBytes, alerts) => options.onProgress?.({ file, index, count: files.length, readBytes, sizeBytes, alerts }),
      };
      entry = await importOne(archive, file, target, hooks, info);
    } catch (err) {
      if (!isZadsError(err) || !['INPUT_NOT_FOUND', 'INPUT_UNSUPPORTED', 'ARCHIVE_CORRUPT'].includes(err.code)) throw err;
      entry = { ...emptyReport(file, 'unknown'), error: err };
    }
    entry.seconds = (performance.now() - fileStarted) / 1000;
    report.perFile.push(entry);
    if (entry.error) report.failed++;
    report.alerts += entry.alerts;
    report.inserted += entry.inserted;
    report.duplicates += entry.duplicates;
    report.quarantined += entry.quarantined;
    report.bytes += entry.bytes;
    options.onProgress?.({ file, index, count: files.length, readBytes: sizeBytes, sizeBytes, alerts: entry.alerts, done: entry });
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
