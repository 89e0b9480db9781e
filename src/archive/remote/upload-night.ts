import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Archive } from '../archive.ts';
import type { SegmentRow } from '../catalogue/index.ts';
import { checkNight, exclusive } from '../close/index.ts';
import { md5sumsKey, tarballKey } from '../layout.ts';
import type { S3Store } from '../storage/index.ts';
import { nightCatalogueStream } from './catalogue-snapshot.ts';
import { nightCatalogueKey } from './keys.ts';
import { DEFAULT_PART_SIZE_BYTES, putChecked } from './put-checked.ts';
import type { CheckedObject } from './put-checked.ts';

export interface UploadNightOptions {
  night: string;
  programid: number;
  /** Part size of the S3 store's multipart uploads, in bytes (config `s3.partSizeBytes`). Default 16 MiB. */
  partSizeBytes?: number;
  logger?: Logger;
}

export interface UploadedObject extends Partial<CheckedObject> {
  key: string;
  sizeBytes: number;
  /** True when S3 already held it (a segment of the same size: segments only grow). */
  skipped: boolean;
}

export interface UploadReport {
  night: string;
  programid: number;
  objects: UploadedObject[];
  /** Bytes sent, in bytes. */
  bytes: number;
  seconds: number;
  /** bytes / seconds, in MB/s (10^6 bytes). */
  mbPerSec: number;
  /** The night's `stored` state afterwards ('local+s3', or 's3' for a pruned night). */
  stored: string;
  /** False when the night changed (reopened, closed again) during the upload: run it again. */
  complete: boolean;
}

function localPath(archive: Archive, key: string): string {
  return join(archive.dataDir, ...key.split('/'));
}

/** The first `sizeBytes` of a local file (what the catalogue accounts for: anything past it is not durable yet). */
function fileRange(path: string, sizeBytes: number): Readable {
  return sizeBytes === 0 ? Readable.from([]) : createReadStream(path, { start: 0, end: sizeBytes - 1 });
}

/** A pruned segment grown by late alerts: the bytes S3 holds, then the local tail past them. */
function joined(remote: S3Store, key: string, remoteBytes: number, path: string, sizeBytes: number): Readable {
  async function* parts(): AsyncGenerator<Buffer> {
    if (remoteBytes > 0) for await (const c of await remote.get(key, { start: 0, end: remoteBytes - 1 })) yield c as Buffer;
    for await (const c of createReadStream(path, { start: remoteBytes, end: sizeBytes - 1 })) yield c as Buffer;
  }
  return Readable.from(parts());
}

/**
 * Uploads a closed night to S3 under the keys it has in the data folder: its segment files (so single
 * alerts can be read by byte range once the local copy is pruned), its catalogue rows (catalogue-snapshot.ts),
 * its tarball and the folder's MD5SUMS — in that order, so the tarball is listed only once what backs it
 * is there. Each object's size and ETag are checked against the bytes sent. Then the night is marked
 * stored 'local+s3' (a pruned night stays 's3'). Segments S3 already holds at the recorded size are skipped.
 */
export async function uploadNight(archive: Archive, options: UploadNightOptions): Promise<UploadReport> {
  checkNight(options.night, options.programid);
  return exclusive(archive, () => uploadExclusive(archive, options));
}

async function uploadExclusive(archive: Archive, options: UploadNightOptions): Promise<UploadReport> {
  const { night, programid } = options;
  const remote = archive.remote;
  if (!remote) {
    throw new ZadsError('CONFIG_INVALID', `no S3 store is configured for ${archive.dataDir}: set "s3" in the config to upload nights`, { context: { key: 's3' } });
  }
  const row = archive.catalogue.night(night, programid);
  if (!row) throw new ZadsError('INPUT_NOT_FOUND', `night ${night} programid ${programid} is not in the catalogue of ${archive.dataDir}`, { context: { night, programid } });
  if (row.state !== 'closed' || !row.tarballKey || !row.tarballMd5) {
    throw new ZadsError('INPUT_UNSUPPORTED', `night ${night} programid ${programid} is open: close it before uploading it`, { context: { night, programid } });
  }
  const started = performance.now();
  const partSizeBytes = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  const put = (key: string, source: Readable, expectSizeBytes?: number): Promise<CheckedObject> => putChecked(remote, key, source, { partSizeBytes, expectSizeBytes });
  const objects: UploadedObject[] = [];
  const segments: SegmentRow[] = archive.catalogue.segments().filter((s) => s.night === night && s.programid === programid);
  for (const seg of segments) {
    const there = (await remote.head(seg.key))?.sizeBytes;
    if (there === seg.sizeBytes) {
      objects.push({ key: seg.key, sizeBytes: seg.sizeBytes, skipped: true });
      continue;
    }
    const path = localPath(archive, seg.key);
    let source: Readable;
    if (row.stored !== 's3') source = fileRange(path, seg.sizeBytes);
    else if (there !== undefined && there < seg.sizeBytes) source = joined(remote, seg.key, there, path, seg.sizeBytes);
    else {
      // The local file of a pruned night is a placeholder: only S3 has its bytes.
      throw new ZadsError('STORAGE_NOT_FOUND', `segment ${seg.key} of pruned night ${night} is not in S3 at its recorded size (${there ?? 'absent'} of ${seg.sizeBytes} bytes)`, {
        context: { night, key: seg.key },
      });
    }
    objects.push({ ...(await put(seg.key, source, seg.sizeBytes)), skipped: false });
  }
  objects.push({ ...(await put(nightCatalogueKey(night, programid), nightCatalogueStream(archive.catalogue.path, night, programid))), skipped: false });

  const tarball = await archive.local.head(row.tarballKey);
  let tarballMd5: string | undefined;
  if (tarball) {
    const sent = await put(row.tarballKey, createReadStream(localPath(archive, row.tarballKey)), tarball.sizeBytes);
    tarballMd5 = sent.md5;
    objects.push({ ...sent, skipped: false });
  } else {
    // Pruned and not closed again since: S3 has to hold the tarball the catalogue describes.
    const there = await remote.head(row.tarballKey);
    if (there?.sizeBytes !== row.tarballBytes) {
      throw new ZadsError('STORAGE_NOT_FOUND', `the tarball ${row.tarballKey} is neither in the data folder nor in S3 at its recorded size`, { context: { night, key: row.tarballKey } });
    }
    tarballMd5 = row.tarballMd5;
    objects.push({ key: row.tarballKey, sizeBytes: there.sizeBytes, skipped: true });
  }
  const sums = md5sumsKey(programid);
  if (await archive.local.head(sums)) objects.push({ ...(await put(sums, await archive.local.get(sums))), skipped: false });

  // Nothing awaits from here: the catalogue is read and written in one go.
  const now = archive.catalogue.night(night, programid);
  const complete = now?.state === 'closed' && now.tarballMd5 === tarballMd5 && tarballKey(night, programid) === now.tarballKey;
  if (complete && now.stored === 'local') archive.catalogue.setStored(night, programid, 'local+s3');
  const bytes = objects.reduce((sum, o) => sum + (o.skipped ? 0 : o.sizeBytes), 0);
  const seconds = (performance.now() - started) / 1000;
  const stored = archive.catalogue.night(night, programid)?.stored ?? row.stored;
  options.logger?.info({ night, programid, bytes, seconds, complete, stored }, 'night uploaded');
  return { night, programid, objects, bytes, seconds, mbPerSec: seconds > 0 ? bytes / seconds / 1e6 : 0, stored, complete };
}
