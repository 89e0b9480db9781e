import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZadsError, toZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Archive } from '../archive.ts';
import type { NightRow } from '../catalogue/index.ts';
import { exclusive } from '../close/index.ts';
import { md5sumsKey } from '../layout.ts';
import { bareEtag } from './etag.ts';

export interface PruneOptions {
  /** Nights (dates, newest first, over all programids) whose local copy is kept. */
  keepLocalNights: number;
  /** Report what would be pruned without deleting anything. Default false. */
  dryRun?: boolean;
  logger?: Logger;
}

export interface PruneReport {
  pruned: { night: string; programid: number; freedBytes: number }[];
  /**
   * Nights old enough to prune that were kept, and why (not in S3, S3 copy differs, S3 unreachable, …);
   * `error` when S3 could not be asked (SERVICE_UNAVAILABLE is retriable: try again later).
   */
  kept: { night: string; programid: number; reason: string; error?: ZadsError }[];
}

async function allocatedBytes(path: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  return s ? s.blocks * 512 : 0;
}

/** Why S3 cannot stand in for the local copy of a night, or undefined when it can. */
async function remoteProblem(archive: Archive, row: NightRow): Promise<string | undefined> {
  const remote = archive.remote!;
  if (!row.tarballKey || row.tarballBytes === null) return 'the catalogue has no tarball for it';
  const tarball = await remote.head(row.tarballKey);
  if (!tarball) return `S3 has no ${row.tarballKey}`;
  if (tarball.sizeBytes !== row.tarballBytes) return `S3 holds ${tarball.sizeBytes} bytes of ${row.tarballKey}, the catalogue ${row.tarballBytes}`;
  const etag = bareEtag(tarball.etag);
  if (/^[0-9a-f]{32}$/.test(etag) && etag !== row.tarballMd5) return `S3's ${row.tarballKey} has MD5 ${etag}, the catalogue ${row.tarballMd5}`;
  if (!(await remote.head(md5sumsKey(row.programid)))) return `S3 has no ${md5sumsKey(row.programid)}`;
  for (const seg of archive.catalogue.segments()) {
    if (seg.night !== row.night || seg.programid !== row.programid) continue;
    const there = await remote.head(seg.key);
    if (there?.sizeBytes !== seg.sizeBytes) return `S3 holds ${there?.sizeBytes ?? 'no'} bytes of ${seg.key}, the catalogue ${seg.sizeBytes}`;
  }
  return undefined;
}

/**
 * Turns a segment file into a placeholder: same size, no data blocks (a sparse file). Ingest, should a
 * late alert reopen the night, appends after it at the offset the catalogue expects, and restarts find
 * the size they recorded. Refuses a file whose size is not the catalogue's (bytes being appended).
 */
async function hollowOut(path: string, sizeBytes: number): Promise<void> {
  const handle = await open(path, 'r+').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!handle) return;
  try {
    const { size } = await handle.stat();
    if (size !== sizeBytes) {
      throw new ZadsError('DATA_MISMATCH', `segment ${path} has ${size} bytes, the catalogue ${sizeBytes}: not pruned while it changes`, { context: { file: path } });
    }
    await handle.truncate(0);
    await handle.truncate(sizeBytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Retention: keeps the local copy of the `keepLocalNights` newest nights and, for older closed nights
 * whose S3 copy checks out (tarball size and MD5, MD5SUMS, every segment at its recorded size), deletes
 * the local tarball and hollows out the segment files; the night becomes stored 's3' and readers go to
 * S3 (reader.ts). A night never uploaded, changed since (reopened, closed again), or whose S3 copy cannot
 * be checked (S3 down: kept with the error, the other nights go on), is kept. The state
 * is set before any byte is removed, so a crash in between leaves readers going to S3, never to a hole.
 *
 * Pruning a night while an ingest in the same process appends late alerts to it is refused per segment
 * (its size no longer matches the catalogue) and the night is tried again at the next prune.
 */
export async function pruneLocal(archive: Archive, options: PruneOptions): Promise<PruneReport> {
  if (!Number.isInteger(options.keepLocalNights) || options.keepLocalNights < 0) {
    throw new ZadsError('CONFIG_INVALID', `keepLocalNights must be a whole number ≥ 0, not ${options.keepLocalNights}`, { context: { key: 'keepLocalNights' } });
  }
  return exclusive(archive, () => pruneExclusive(archive, options));
}

async function pruneExclusive(archive: Archive, options: PruneOptions): Promise<PruneReport> {
  const report: PruneReport = { pruned: [], kept: [] };
  const nights = archive.catalogue.nights();
  const dates = [...new Set(nights.map((n) => n.night))].sort().reverse();
  const hot = new Set(dates.slice(0, options.keepLocalNights));
  for (const row of nights) {
    if (hot.has(row.night)) continue;
    const { night, programid } = row;
    const keep = (reason: string, error?: ZadsError): void => {
      report.kept.push(error ? { night, programid, reason, error } : { night, programid, reason });
    };
    if (row.state !== 'closed') {
      keep('open');
      continue;
    }
    if (row.stored === 'local') {
      keep('not uploaded to S3');
      continue;
    }
    if (!archive.remote) {
      keep('no S3 store configured');
      continue;
    }
    const tarballPath = row.tarballKey ? join(archive.dataDir, ...row.tarballKey.split('/')) : undefined;
    const segments = archive.catalogue.segments().filter((s) => s.night === night && s.programid === programid);
    const segmentPaths = segments.map((s) => join(archive.dataDir, ...s.key.split('/')));
    let freedBytes = tarballPath ? await allocatedBytes(tarballPath) : 0;
    for (const p of segmentPaths) freedBytes += await allocatedBytes(p);
    if (row.stored === 's3' && freedBytes === 0) continue;
    let problem: string | undefined;
    try {
      problem = await remoteProblem(archive, row);
    } catch (err) {
      // S3 down (or refusing): its copy cannot be checked, so the local one stays; the other nights go on.
      const error = toZadsError(err, { night, programid });
      keep(`${error.code === 'SERVICE_UNAVAILABLE' ? 'S3 unavailable' : 'S3 copy not checked'}: ${error.message}`, error);
      continue;
    }
    if (problem) {
      keep(problem);
      continue;
    }
    if (!options.dryRun) {
      const now = archive.catalogue.night(night, programid);
      if (now?.state !== 'closed' || now.tarballMd5 !== row.tarballMd5) {
        keep('changed while it was checked');
        continue;
      }
      archive.catalogue.setStored(night, programid, 's3');
      if (row.tarballKey) await archive.local.delete(row.tarballKey);
      try {
        for (let i = 0; i < segments.length; i++) await hollowOut(segmentPaths[i]!, segments[i]!.sizeBytes);
      } catch (err) {
        keep((err as Error).message);
        continue;
      }
    }
    report.pruned.push({ night, programid, freedBytes });
    options.logger?.info({ night, programid, freedBytes, dryRun: options.dryRun ?? false }, 'local copy pruned');
  }
  return report;
}
