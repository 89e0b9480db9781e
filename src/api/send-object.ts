import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { checkKey } from '../archive/index.ts';
import type { Archive, ObjectInfo } from '../archive/index.ts';
import type { Logger } from '../log.ts';
import { ApiError } from './errors.ts';
import { decide } from './ranges.ts';

/**
 * Bytes per read of a local file. Node's 64 KB default costs a read and a socket write per 64 KB; 1 MB
 * reads move a tarball over loopback markedly faster (measured with the api bench stage).
 */
const LOCAL_READ_BYTES = 1024 * 1024;

export interface StoredObject {
  info: ObjectInfo;
  store: 'local' | 's3';
}

/** Where a bulk file is: the data folder first, else S3 (a night pruned from local disk). */
export async function locate(archive: Archive, key: string): Promise<StoredObject | undefined> {
  const here = await archive.local.head(key);
  if (here) return { info: here, store: 'local' };
  const there = await archive.remote?.head(key);
  return there ? { info: there, store: 's3' } : undefined;
}

/**
 * Answers a GET or HEAD of a stored file: ETag, Last-Modified, Content-Length, Accept-Ranges, the
 * conditional headers (304, 412), one byte range (206, or 416 past the end). The bytes are streamed
 * from the file or from S3 (a range request there), never held in memory; a client that goes away
 * stops the read.
 */
export async function sendObject(
  req: Request,
  res: Response,
  archive: Archive,
  found: StoredObject,
  options: { contentType: string; logger?: Logger; onBytes?: (n: number) => void },
): Promise<void> {
  const { info } = found;
  const answer = decide(
    {
      range: req.get('range'),
      ifRange: req.get('if-range'),
      ifMatch: req.get('if-match'),
      ifNoneMatch: req.get('if-none-match'),
      ifModifiedSince: req.get('if-modified-since'),
    },
    { sizeBytes: info.sizeBytes, etag: info.etag, modified: info.modified },
  );
  res.set({
    ETag: info.etag,
    'Last-Modified': info.modified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'public, max-age=300',
  });
  if (answer.status === 304) {
    res.status(304).end();
    return;
  }
  if (answer.status === 412) throw new ApiError('PRECONDITION_FAILED', `If-Match does not match the current ETag ${info.etag}`);
  if (answer.status === 416) {
    throw new ApiError('RANGE_NOT_SATISFIABLE', `the range ${req.get('range')} lies outside the ${info.sizeBytes} bytes of the file`, {
      headers: { 'Content-Range': `bytes */${info.sizeBytes}` },
    });
  }
  const range = answer.status === 206 ? { start: answer.start, end: answer.end } : undefined;
  const length = range ? range.end - range.start + 1 : info.sizeBytes;
  res.status(answer.status).type(options.contentType).set('Content-Length', String(length));
  if (range) res.set('Content-Range', `bytes ${range.start}-${range.end}/${info.sizeBytes}`);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  // Local files are read here rather than through LocalStore.get for the larger reads; the key is checked
  // the same way, so it cannot leave the data folder.
  const body =
    found.store === 'local'
      ? createReadStream(join(archive.dataDir, ...checkKey(info.key).split('/')), { start: range?.start, end: range?.end, highWaterMark: LOCAL_READ_BYTES })
      : await archive.remote!.get(info.key, range);
  // Counted once at the end: a 'data' listener beside the pipe halves the download rate (measured).
  try {
    await pipeline(body, res);
    options.onBytes?.(length);
  } catch (err) {
    options.onBytes?.((body as { bytesRead?: number }).bytesRead ?? 0);
    // Headers are out: all that can be done is to cut the connection, so the client sees a short body.
    if (!res.destroyed) res.destroy(err as Error);
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      options.logger?.warn({ err, key: info.key }, 'download interrupted');
    }
  }
}
