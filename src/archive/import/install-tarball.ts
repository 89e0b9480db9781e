import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { md5sumsKey, tarballKey, tarballName } from '../layout.ts';
import { setMd5sumsEntry } from '../md5sums.ts';

const READ_CHUNK_BYTES = 1024 * 1024;

export interface InstalledTarball {
  key: string;
  md5: string;
  sizeBytes: number;
}

async function md5Of(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK_BYTES })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Makes a downloaded UW tarball the night's own: copies it to its place in the data folder, taking its
 * MD5 as it is written (unless the same bytes are already there), sets its MD5SUMS line and marks the
 * night closed with it, so the night is served exactly as it was downloaded. `before` is the file's
 * state when its import started: a file that changed since is not installed.
 */
export async function installTarball(
  archive: Archive,
  file: string,
  night: { night: string; programid: number },
  imported: { before: Stats; alerts: number },
): Promise<InstalledTarball> {
  const key = tarballKey(night.night, night.programid);
  const { catalogue, local } = archive;
  const sizeBytes = imported.before.size;
  const row = catalogue.night(night.night, night.programid);
  let md5: string | undefined;
  if (row?.tarballKey === key && row.tarballMd5 && row.tarballBytes === sizeBytes && (await local.head(key))?.sizeBytes === sizeBytes) {
    // Most likely the same file imported again: its MD5 tells, and saves writing it again.
    if ((await md5Of(file)) === row.tarballMd5) md5 = row.tarballMd5;
  }
  if (md5 === undefined) {
    const info = await local.put(key, createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }));
    // The local store's ETag is the MD5 of what it wrote; any other store's is not, and costs a read.
    md5 = /^"([0-9a-f]{32})"$/.exec(info.etag)?.[1] ?? (await md5Of(file));
  }
  const after = await stat(file);
  if (after.size !== sizeBytes || after.mtimeMs !== imported.before.mtimeMs) {
    // Not marked closed: a close (or the next import) writes the night's tarball again.
    throw new ZadsError('INPUT_UNSUPPORTED', `${file} changed while it was imported: import it again`, { context: { file, night: night.night } });
  }
  await setMd5sumsEntry(local, md5sumsKey(night.programid), { md5, name: tarballName(night.night, night.programid) });
  catalogue.markClosed({
    night: night.night,
    programid: night.programid,
    tarballKey: key,
    tarballBytes: sizeBytes,
    tarballMd5: md5,
    tarballAlerts: imported.alerts,
  });
  return { key, md5, sizeBytes };
}
