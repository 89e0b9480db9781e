import { ZipArchive } from 'archiver';
import type { Response } from 'express';
import { TarGzWriter, streamSink } from '../alert/index.ts';
import type { Archive } from '../archive/index.ts';
import type { Logger } from '../log.ts';
import { AlertBytes } from './alert-bytes.ts';
import type { LocatedRow } from './query/object.ts';
import { memberTime } from '../alert/index.ts';

export type SubsetFormat = 'tar.gz' | 'zip';

/** Bytes handed to the archiver and not yet out of it, past which appending waits. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;


/**
 * Alerts are mostly gzipped FITS cutouts: gzip level 1 gets nearly all there is to get (the repeated
 * schema text) at a fraction of the CPU; zip members are stored as they are.
 */
const SUBSET_GZIP_LEVEL = 1;

export interface SendSubsetOptions {
  format: SubsetFormat;
  /** The download's file name (Content-Disposition). */
  fileName: string;
  logger?: Logger;
  onBytes?: (n: number) => void;
}

/** Resolves on the first of `event` on the emitter, the response closing, or `ms` (when given). */
function until(emitter: NodeJS.EventEmitter, event: string, res: Response, ms?: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      if (timer) clearTimeout(timer);
      emitter.off(event, done);
      emitter.off('error', done);
      res.off('close', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    emitter.on(event, done);
    emitter.on('error', done);
    res.on('close', done);
  });
}

/**
 * Streams alerts as a tar.gz or zip built on the fly, one `<candid>.avro` member per alert holding its
 * exact stored bytes. Nothing is written to disk and at most a few MB are in flight: the next alert is
 * read only once the archiver has taken the last one and the client is keeping up. A client that goes
 * away stops the reads; a read that fails after the headers went out cuts the connection (the client
 * sees a truncated archive, never a wrong one).
 */
export async function sendSubset(res: Response, archive: Archive, batches: Iterable<LocatedRow[]>, options: SendSubsetOptions): Promise<void> {
  const headers = {
    'Content-Type': options.format === 'zip' ? 'application/zip' : 'application/gzip',
    'Content-Disposition': `attachment; filename="${options.fileName}"`,
    'Cache-Control': 'no-store',
  };
  // The size is not known before the archive is built: a HEAD gets the headers and builds nothing.
  if (res.req.method === 'HEAD') {
    res.status(200).set(headers).end();
    return;
  }
  if (options.format === 'tar.gz') {
    await sendTarGz(res, archive, batches, headers, options);
    return;
  }
  const zip = new ZipArchive({ store: true });
  const reader = new AlertBytes(archive);
  let closed = false;
  let failure: Error | undefined;
  res.once('close', () => {
    closed = true;
  });
  zip.on('error', (err: Error) => {
    failure ??= err;
  });
  zip.on('warning', (err: Error) => {
    failure ??= err;
  });
  res.status(200).set(headers);
  if (options.onBytes) zip.on('data', (chunk: Buffer) => options.onBytes!(chunk.length));
  zip.pipe(res);
  let appended = 0;
  const stopped = (): boolean => closed || failure !== undefined;
  try {
    outer: for (const batch of batches) {
      for (const row of batch) {
        if (stopped()) break outer;
        const bytes = await reader.read(row);
        if (stopped()) break outer;
        const entry = until(zip, 'entry', res);
        zip.append(bytes, { name: `${row.candid}.avro`, date: memberTime(row) });
        appended += bytes.length;
        await entry;
        // Stored zip members are taken at once, so wait here while the archiver holds more than
        // MAX_PENDING_BYTES or the socket is full.
        while (!stopped() && (res.writableNeedDrain || appended - zip.pointer() > MAX_PENDING_BYTES)) {
          await until(res, 'drain', res, 20);
        }
      }
    }
    if (failure) throw failure;
    if (closed) {
      zip.abort();
      return;
    }
    const done = until(zip, 'error', res);
    zip.finalize().catch((err: unknown) => {
      failure ??= err as Error;
    });
    await done;
    if (failure) throw failure;
  } catch (err) {
    options.logger?.warn({ err }, 'subset archive interrupted');
    zip.abort();
    if (!res.destroyed) res.destroy(err as Error);
  } finally {
    await reader.close();
  }
}

/**
 * The tar.gz form: the one tar.gz writer of the project (compressed on every core, shared with the night
 * close), writing straight to the response. `add` resolves once the compressed bytes before it are in
 * the socket's buffer, so a slow client slows the reads; a client that goes away fails the next write.
 */
async function sendTarGz(res: Response, archive: Archive, batches: Iterable<LocatedRow[]>, headers: Record<string, string>, options: SendSubsetOptions): Promise<void> {
  const sink = streamSink(res);
  const writer = new TarGzWriter(
    {
      write(chunk) {
        options.onBytes?.(chunk.length);
        return sink.write(chunk);
      },
    },
    { level: SUBSET_GZIP_LEVEL },
  );
  const reader = new AlertBytes(archive);
  res.status(200).set(headers);
  try {
    for (const batch of batches) {
      for (const row of batch) {
        if (res.destroyed) {
          writer.abort();
          return;
        }
        await writer.add({ name: `${row.candid}.avro`, bytes: await reader.read(row), date: memberTime(row) });
      }
    }
    await writer.finish();
    res.end();
  } catch (err) {
    writer.abort();
    if (!res.destroyed) {
      options.logger?.warn({ err }, 'subset archive interrupted');
      // Cut the connection: the client sees a truncated archive, never a wrong one.
      res.destroy(err as Error);
    }
  } finally {
    await reader.close();
  }
}
