import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ZadsError } from '../../errors.ts';
import type { S3Store } from '../storage/index.ts';
import { EtagTap, bareEtag } from './etag.ts';

export interface PutCheckedOptions {
  /**
   * Part size of the S3 store's multipart uploads, in bytes: the `s3.partSizeBytes` of the config the
   * store was made from (default 16 MiB). With the right value a multipart ETag is checked without a
   * read-back; with a wrong one the object is read back once to compare MD5s.
   */
  partSizeBytes: number;
  /** Bytes the source must give; a source that gives another count (a file that changed) is an error. */
  expectSizeBytes?: number;
}

export interface CheckedObject {
  key: string;
  sizeBytes: number;
  /** MD5 of the bytes sent, hex. */
  md5: string;
  /** The ETag S3 gave, unquoted. */
  etag: string;
  /** True when the ETag did not tell and the object was read back to compare. */
  readBack: boolean;
}

export const DEFAULT_PART_SIZE_BYTES = 16 * 1024 * 1024;

/**
 * Uploads a stream to S3 (multipart, CRC32-checked by the server per part) while computing its size,
 * MD5 and expected ETags, then checks what S3 reports: the same size, and an ETag equal to the MD5
 * (single part) or to the multipart ETag of the same parts. Anything else is read back and compared by
 * MD5 before it is accepted.
 */
export async function putChecked(remote: S3Store, key: string, source: Readable, options: PutCheckedOptions): Promise<CheckedObject> {
  const tap = new EtagTap(options.partSizeBytes);
  source.on('error', (err) => tap.destroy(err));
  source.pipe(tap);
  const info = await remote.put(key, tap);
  const sent = tap.result();
  if (options.expectSizeBytes !== undefined && sent.sizeBytes !== options.expectSizeBytes) {
    throw new ZadsError('DATA_MISMATCH', `${key}: ${sent.sizeBytes} bytes were read for upload where ${options.expectSizeBytes} were expected (did the file change?)`, {
      context: { key },
    });
  }
  if (info.sizeBytes !== sent.sizeBytes) {
    throw new ZadsError('SERVICE_UNAVAILABLE', `S3 holds ${info.sizeBytes} bytes of ${key} after an upload of ${sent.sizeBytes}`, {
      context: { key, store: remote.name },
    });
  }
  const etag = bareEtag(info.etag);
  if (etag === sent.md5 || etag === sent.multipartEtag) return { key, sizeBytes: sent.sizeBytes, md5: sent.md5, etag, readBack: false };
  const hash = createHash('md5');
  for await (const chunk of await remote.get(key)) hash.update(chunk as Buffer);
  const stored = hash.digest('hex');
  if (stored !== sent.md5) {
    throw new ZadsError('SERVICE_UNAVAILABLE', `S3 holds other bytes for ${key} than were uploaded (MD5 ${stored}, sent ${sent.md5})`, {
      context: { key, store: remote.name },
    });
  }
  return { key, sizeBytes: sent.sizeBytes, md5: sent.md5, etag, readBack: true };
}
