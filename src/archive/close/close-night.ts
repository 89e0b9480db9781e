import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ZadsError, toZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { Catalogue } from '../catalogue/index.ts';
import type { AlertRow } from '../catalogue/index.ts';
import { md5sumsKey, tarballKey, tarballName } from '../layout.ts';
import { openNightReader } from '../remote/reader.ts';
import { fsyncDir, isNoSpace, removeQuietly } from './files.ts';
import { exclusive } from './lock.ts';
import { setMd5sumsEntry } from '../md5sums.ts';
import { memberDate, memberName } from './member.ts';
import { readAhead } from './read-ahead.ts';
import { writeTarball } from './write-tarball.ts';
import type { TarMemberInput } from './write-tarball.ts';
import { resolveCloseNightOptions } from './options.ts';
import type { CloseNightOptions, ResolvedCloseNightOptions } from './options.ts';

export interface CloseProgress {
  night: string;
  programid: number;
  alerts: number;
  totalAlerts: number;
  alertBytes: number;
  totalAlertBytes: number;
}

export interface CloseReport {
  night: string;
  programid: number;
  /** Key of the tarball in the data folder (and in S3). */
  key: string;
  /** Alerts (members) in the tarball. */
  alerts: number;
  /** Size of the tarball, in bytes. */
  bytes: number;
  /** Sum of the alerts' sizes, in bytes (what was read and compressed). */
  alertBytes: number;
  /** MD5 of the tarball, hex, as in MD5SUMS. */
  md5: string;
  /** Wall time of the close: writing, fsync, reading back, MD5SUMS, catalogue; in seconds. */
  seconds: number;
  /** alertBytes / seconds, in MB/s (10^6 bytes). */
  mbPerSec: number;
  /** Wall time of writing the tarball alone (read segments, tar, gzip, fsync), in seconds. */
  writeSeconds: number;
  /** Whether the night had been closed before (late alerts reopened it, or `force`). */
  rebuilt: boolean;
  /** True when the night was closed already and nothing was done (no `force`). */
  skipped: boolean;
  /** False when alerts kept arriving through every attempt: the tarball is written but the night stays open. */
  closed: boolean;
  attempts: number;
}

export function checkNight(night: string, programid: number): void {
  if (!/^\d{8}$/.test(night)) {
    throw new ZadsError('CONFIG_INVALID', `night must be YYYYMMDD, not ${JSON.stringify(night)}`, { context: { key: 'night' } });
  }
  if (!Number.isInteger(programid) || programid < 0) {
    throw new ZadsError('CONFIG_INVALID', `programid must be a whole number ≥ 0, not ${programid}`, { context: { key: 'programid' } });
  }
}

/**
 * Closes a night: writes `ztf_public_YYYYMMDD.tar.gz` (or the partnership / programidN name) in the UW
 * layout — one `<candid>.avro` member per alert, in candid order, each the exact bytes archived, each
 * checked against its catalogue row as it is written — checks the file's size and end on disk, moves it
 * into place, sets its line in the folder's MD5SUMS and marks the night closed in the catalogue. The
 * alerts are streamed from the segments (or S3, for a pruned night) through tar and a gzip compressed on
 * every core into a temporary file beside the target, so memory stays flat whatever the night's size.
 * A crash (kill -9 included) while the tarball is written leaves the previous tarball and MD5SUMS as they
 * were and the night as it was: the new file is a temporary until it is fsynced and renamed over the old,
 * then MD5SUMS is replaced the same way, and only then is the night marked closed. Closing again removes
 * the temporary and starts over. (A crash in the instant between the two renames leaves the new tarball
 * beside the old MD5SUMS line with the night not marked closed; the next close writes the same bytes
 * again — the tarball depends only on the alerts — and the line with them.)
 *
 * The rows come from a read-only snapshot of the catalogue, so an ingest writing in the same process is
 * not blocked; if it records alerts of this night meanwhile, the tarball is built again with them.
 */
export async function closeNight(archive: Archive, options: CloseNightOptions): Promise<CloseReport> {
  checkNight(options.night, options.programid);
  const resolved = resolveCloseNightOptions(options);
  return exclusive(archive, () => closeExclusive(archive, resolved));
}

async function closeExclusive(archive: Archive, options: ResolvedCloseNightOptions): Promise<CloseReport> {
  const { night, programid } = options;
  const started = performance.now();
  const row = archive.catalogue.night(night, programid);
  if (!row) {
    const known = archive.catalogue.nights().map((n) => `${n.night}/${n.programid}`);
    throw new ZadsError(
      'INPUT_NOT_FOUND',
      `night ${night} programid ${programid} is not in the catalogue of ${archive.dataDir}` +
        (known.length ? ` (it has ${known.slice(-10).join(', ')}${known.length > 10 ? ', …' : ''})` : ' (it has no nights yet)'),
      { context: { night, programid } },
    );
  }
  const key = tarballKey(night, programid);
  if (row.state === 'closed' && !options.force) {
    return {
      night, programid, key, alerts: row.tarballAlerts ?? 0, bytes: row.tarballBytes ?? 0, alertBytes: row.bytes, md5: row.tarballMd5 ?? '',
      seconds: 0, mbPerSec: 0, writeSeconds: 0, rebuilt: false, skipped: true, closed: true, attempts: 0,
    };
  }
  const rebuilt = row.closedAt !== null;
  const { maxAttempts } = options;
  for (let attempt = 1; ; attempt++) {
    const built = await buildTarball(archive, options, key);
    // From here to markClosed nothing awaits: an ingest in this process cannot record alerts in between.
    const now = archive.catalogue.countNight(night, programid);
    const seconds = (performance.now() - started) / 1000;
    const report: CloseReport = {
      night, programid, key, alerts: built.members, bytes: built.sizeBytes, alertBytes: built.memberBytes, md5: built.md5,
      seconds, mbPerSec: seconds > 0 ? built.memberBytes / seconds / 1e6 : 0, writeSeconds: built.writeSeconds,
      rebuilt, skipped: false, closed: false, attempts: attempt,
    };
    if (now.alerts === built.members) {
      archive.catalogue.markClosed({ night, programid, tarballKey: key, tarballBytes: built.sizeBytes, tarballMd5: built.md5, tarballAlerts: built.members });
      // The S3 copy (if any) is now stale; a pruned night ('s3') stays so, its segments being placeholders.
      if (archive.catalogue.night(night, programid)?.stored === 'local+s3') archive.catalogue.setStored(night, programid, 'local');
      report.closed = true;
      options.logger?.info({ night, programid, alerts: report.alerts, bytes: report.bytes, seconds, mbPerSec: report.mbPerSec }, 'night closed');
      return report;
    }
    options.logger?.warn({ night, programid, written: built.members, now: now.alerts, attempt }, 'alerts arrived during the close; building the tarball again');
    if (attempt >= maxAttempts) return report;
  }
}

/** Temporary tarballs of this night left by a close that crashed (one writer per archive: none is in use). */
async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  for (const name of await readdir(dirname(path))) if (name.startsWith(prefix)) await removeQuietly(join(dirname(path), name));
}

interface Built {
  sizeBytes: number;
  md5: string;
  members: number;
  memberBytes: number;
  writeSeconds: number;
}

async function buildTarball(archive: Archive, options: ResolvedCloseNightOptions, key: string): Promise<Built> {
  const { night, programid } = options;
  const path = join(archive.dataDir, ...key.split('/'));
  const tmp = `${path}.tmp-${randomUUID()}`;
  const snapshot = new Catalogue(archive.catalogue.path, { readonly: true });
  const reader = await openNightReader(archive, { night, programid });
  try {
    await mkdir(dirname(path), { recursive: true });
    await removeStaleTemporaries(path);
    // One read transaction: the count and the rows come from the same state of the catalogue.
    snapshot.beginRead();
    const total = snapshot.countNight(night, programid);
    const started = performance.now();
    const members = async function* (): AsyncGenerator<TarMemberInput> {
      const rows = readAhead(snapshot.alertsOfNight(night, programid), (r: AlertRow) => reader.alertBytes(r), options.readAheadAlerts);
      for await (const [r, bytes] of rows) {
        // The member as it goes into the tar stream must be the alert the catalogue recorded.
        if (bytes.length !== r.byteLength) {
          throw new ZadsError('ARCHIVE_CORRUPT', `alert ${r.candid} read ${bytes.length} bytes from ${r.segment}, not the ${r.byteLength} recorded`, {
            context: { night, candid: r.candid.toString(), file: r.segment },
          });
        }
        yield { name: memberName(r.candid), date: memberDate(r), bytes };
      }
    };
    const written = await writeTarball(tmp, members(), {
      gzipLevel: options.gzipLevel,
      onMember: options.onProgress
        ? (w) => options.onProgress!({ night, programid, alerts: w.members, totalAlerts: total.alerts, alertBytes: w.memberBytes, totalAlertBytes: total.bytes })
        : undefined,
    });
    snapshot.endRead();
    const writeSeconds = (performance.now() - started) / 1000;
    await rename(tmp, path);
    await fsyncDir(dirname(path));
    await setMd5sumsEntry(archive.local, md5sumsKey(programid), { md5: written.md5, name: tarballName(night, programid) });
    return { sizeBytes: written.sizeBytes, md5: written.md5, members: written.members, memberBytes: written.memberBytes, writeSeconds };
  } catch (err) {
    await removeQuietly(tmp);
    if (err instanceof ZadsError) {
      err.context.night ??= night;
      throw err;
    }
    if (isNoSpace(err)) throw new ZadsError('STORAGE_FULL', `no space left to write ${key}`, { cause: err, context: { night, key } });
    throw toZadsError(err, { night, key });
  } finally {
    snapshot.close();
    await reader.close();
  }
}
