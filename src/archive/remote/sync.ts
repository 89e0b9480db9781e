import { toZadsError } from '../../errors.ts';
import type { ZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Archive } from '../archive.ts';
import { pruneLocal } from './prune.ts';
import type { PruneReport } from './prune.ts';
import { uploadNight } from './upload-night.ts';
import type { UploadReport } from './upload-night.ts';

export interface SyncRemoteOptions {
  /** Nights kept on local disk (config `archive.keepLocalNights`); undefined: upload only, prune nothing. */
  keepLocalNights?: number;
  /** Part size of the S3 store's multipart uploads, in bytes (config `s3.partSizeBytes`). */
  partSizeBytes?: number;
  logger?: Logger;
}

export interface SyncRemoteResult {
  uploaded: UploadReport[];
  failed: { night: string; programid: number; error: ZadsError }[];
  pruned: PruneReport | undefined;
  /** Retention could not run at all (its error); nothing was pruned. */
  pruneFailed?: ZadsError;
}

/**
 * The first error of a sync that a later try can fix (S3 unreachable: SERVICE_UNAVAILABLE), from a
 * failed upload, a night kept because its S3 copy could not be checked, or retention as a whole.
 */
export function retriableSyncError(result: SyncRemoteResult): ZadsError | undefined {
  const errors = [...result.failed.map((f) => f.error), ...(result.pruned?.kept ?? []).flatMap((k) => (k.error ? [k.error] : [])), ...(result.pruneFailed ? [result.pruneFailed] : [])];
  return errors.find((e) => e.retriable);
}

/** Closed nights whose S3 copy is missing or older than the local one. */
export async function nightsToUpload(archive: Archive): Promise<{ night: string; programid: number }[]> {
  const out: { night: string; programid: number }[] = [];
  for (const n of archive.catalogue.nights()) {
    if (n.state !== 'closed') continue;
    // A pruned night ('s3') that has a local tarball again was reopened and closed since its upload.
    if (n.stored === 'local' || (n.stored === 's3' && n.tarballKey && (await archive.local.head(n.tarballKey)))) out.push({ night: n.night, programid: n.programid });
  }
  return out;
}

/**
 * What follows night closes when S3 is configured: uploads every closed night not yet (or no longer)
 * in S3, then applies retention. A failed upload (S3 down) leaves its night for the next run; nothing is
 * pruned that is not in S3. Does nothing without an S3 store.
 */
export async function syncRemote(archive: Archive, options: SyncRemoteOptions = {}): Promise<SyncRemoteResult> {
  const result: SyncRemoteResult = { uploaded: [], failed: [], pruned: undefined };
  if (!archive.remote) return result;
  for (const { night, programid } of await nightsToUpload(archive)) {
    try {
      result.uploaded.push(await uploadNight(archive, { night, programid, partSizeBytes: options.partSizeBytes, logger: options.logger }));
    } catch (err) {
      const error = toZadsError(err, { night, programid });
      const line = `upload of night ${night} programid ${programid} failed (${error.code}): ${error.message}; its local copy is kept (not pruned) and the upload tried again later`;
      if (error.retriable) options.logger?.warn({ night, programid, err: error }, line);
      else options.logger?.error({ night, programid, err: error }, line);
      result.failed.push({ night, programid, error });
    }
  }
  if (options.keepLocalNights !== undefined) {
    try {
      result.pruned = await pruneLocal(archive, { keepLocalNights: options.keepLocalNights, logger: options.logger });
    } catch (err) {
      result.pruneFailed = toZadsError(err);
      options.logger?.error({ err: result.pruneFailed }, `retention failed (${result.pruneFailed.code}): ${result.pruneFailed.message}; nothing pruned`);
    }
  }
  return result;
}
