import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { ZadsError, isZadsError, toZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { segmentKey } from '../layout.ts';
import { decodeMember, emptyReport } from './import-tarball.ts';
import type { InputHooks, TarballTarget } from './import-tarball.ts';
import type { FileReport } from './types.ts';
import { ImportWriter, safeName } from './writer.ts';

/** A file or folder that cannot be read is the input's problem, not a fault of the archive. */
async function reading<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (cause) {
    throw new ZadsError('INPUT_NOT_FOUND', `cannot read ${path}: ${(cause as Error).message}`, { cause, context: { file: path } });
  }
}

/** The `.avro` files under a folder, recursively, sorted by path. */
async function* alertFiles(dir: string): AsyncGenerator<string> {
  const names = (await reading(dir, () => readdir(dir, { withFileTypes: true }))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of names) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* alertFiles(path);
    else if (e.isFile() && e.name.endsWith('.avro')) yield path;
  }
}

/**
 * Imports plain alert files: one `.avro` container file, or every `.avro` file under a folder, into the
 * given night. A lone file goes to the segment `import-files`, a folder's files to `import-<folder>`;
 * each file is kept byte for byte, as a tarball member is.
 */
export async function importAlertFiles(archive: Archive, path: string, target: TarballTarget, hooks: InputHooks): Promise<FileReport> {
  const report = emptyReport(path, 'alerts');
  const { night, programid } = target;
  const isFolder = (await stat(path)).isDirectory();
  const label = isFolder ? safeName(basename(path)) : 'files';
  const segment = segmentKey(night, programid, `import-${label}`);
  Object.assign(report, { night, programid, segment });
  const writer = new ImportWriter(archive, { night, programid, segment, quarantineFolder: label, ...hooks });
  const files = isFolder ? alertFiles(path) : [path];
  let readBytes = 0;
  try {
    for await (const file of files) {
      const bytes = await reading(file, () => readFile(file));
      readBytes += bytes.length;
      const member = isFolder ? relative(path, file) : basename(file);
      let decoded;
      try {
        decoded = decodeMember(bytes, { file });
      } catch (err) {
        await writer.quarantine(bytes, member, file, toZadsError(err, { file }));
      }
      if (decoded) writer.add(bytes, decoded);
      if (writer.full) await writer.flush();
      hooks.onMember(readBytes, writer.counts.alerts);
    }
  } catch (err) {
    // An unreadable file ends this input (what was read before it is kept); a storage failure is fatal.
    if (!isZadsError(err, 'INPUT_NOT_FOUND')) throw err;
    report.error = err;
  }
  await writer.finish();
  Object.assign(report, writer.reportCounts());
  if (report.quarantined > 0) report.notes.push(`${report.quarantined} file(s) did not decode and are kept in the quarantine`);
  report.notes.push('plain alert files leave the night open: "zads archive close" builds its tarball');
  return report;
}
