import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { tarballKey } from '../layout.ts';
import { checkKey, readAll } from '../storage/index.ts';
import type { ByteRange, ObjectInfo } from '../storage/index.ts';

/** Where an alert's exact bytes are: a segment key and a byte range in it (a catalogue row has these). */
export interface AlertBytesLocation {
  segment: string;
  byteOffset: number;
  byteLength: number;
}

export interface TarballSource extends ObjectInfo {
  /** The store the tarball is read from. */
  store: 'local' | 's3';
}

/** How many bytes of a segment each store holds; undefined where the store has no such object. */
export interface SegmentExtent {
  localBytes: number | undefined;
  remoteBytes: number | undefined;
  /** Bytes a reader can serve, from one store or the other (see NightReader). */
  availableBytes: number | undefined;
}

/**
 * Reads one night's bulk data wherever it is. The tarball comes from the data folder when it is there,
 * else from S3. Alert bytes come from the local segment files while the night's `stored` state has a
 * local copy, else from S3 by range request. A pruned night (`stored = 's3'`) keeps its segment files
 * as sparse placeholders of their recorded size (so ingest appends after them, at the offsets the
 * catalogue expects, if late alerts reopen the night): there, bytes below the S3 copy's size come from
 * S3 and only bytes past it (late alerts not yet uploaded) from the local file.
 */
export interface NightReader {
  readonly night: string;
  readonly programid: number;
  /** Where the night's tarball is read from, with its size and ETag; undefined when no store has it. */
  tarballInfo(): Promise<TarballSource | undefined>;
  /** The tarball, whole or an inclusive byte range of it. STORAGE_NOT_FOUND when no store has it. */
  tarball(range?: ByteRange): Promise<Readable>;
  /** The exact bytes of one alert. */
  alertBytes(at: AlertBytesLocation): Promise<Buffer>;
  segmentExtent(segment: string): Promise<SegmentExtent>;
  /** Closes the segment files it opened; idempotent. */
  close(): Promise<void>;
}

export interface OpenNightReaderOptions {
  night: string;
  programid: number;
}

/** Local segment files kept open at once; past this the reader closes them all and starts again. */
const MAX_OPEN_SEGMENTS = 256;

interface LocalSegment {
  handle: FileHandle;
  sizeBytes: number;
}

export async function openNightReader(archive: Archive, options: OpenNightReaderOptions): Promise<NightReader> {
  const { night, programid } = options;
  const row = archive.catalogue.night(night, programid);
  if (!row) {
    throw new ZadsError('INPUT_NOT_FOUND', `night ${night} programid ${programid} is not in the catalogue of ${archive.dataDir}`, {
      context: { night, programid },
    });
  }
  const pruned = row.stored === 's3';
  const remote = archive.remote;
  const local = new Map<string, Promise<LocalSegment | null>>();
  const remoteSizes = new Map<string, number | null>();
  let closed = false;

  const openLocal = async (key: string): Promise<LocalSegment | null> => {
    try {
      const handle = await open(join(archive.dataDir, ...checkKey(key).split('/')), 'r');
      return { handle, sizeBytes: (await handle.stat()).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw segmentError(err, key);
      return null;
    }
  };

  const localSegment = async (key: string, needBytes: number): Promise<LocalSegment | null> => {
    let opening = local.get(key);
    if (opening === undefined) {
      if (local.size >= MAX_OPEN_SEGMENTS) await closeLocal();
      // The promise is cached, not the handle: reads running ahead share one open of each file.
      opening = openLocal(key);
      local.set(key, opening);
      opening.catch(() => local.delete(key));
    }
    const seg = await opening;
    // An open night's segments grow; look again before calling a range missing.
    if (seg && seg.sizeBytes < needBytes) seg.sizeBytes = (await seg.handle.stat()).size;
    return seg;
  };

  const remoteSize = async (key: string, needBytes: number): Promise<number | undefined> => {
    if (!remote) return undefined;
    let size = remoteSizes.get(key);
    if (size === undefined || (size !== null && size < needBytes)) {
      size = (await remote.head(key))?.sizeBytes ?? null;
      remoteSizes.set(key, size);
    }
    return size ?? undefined;
  };

  const closeLocal = async (): Promise<void> => {
    const opened = [...local.values()];
    local.clear();
    for (const opening of opened) {
      const seg = await opening.catch(() => null);
      await seg?.handle.close().catch(() => undefined);
    }
  };

  const readLocal = async (seg: LocalSegment, at: AlertBytesLocation): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(at.byteLength);
    let done = 0;
    while (done < at.byteLength) {
      const { bytesRead } = await seg.handle.read(buf, done, at.byteLength - done, at.byteOffset + done);
      if (bytesRead === 0) throw rangeError(at, seg.sizeBytes);
      done += bytesRead;
    }
    return buf;
  };

  const readRemote = async (at: AlertBytesLocation): Promise<Buffer> => {
    const bytes = await readAll(await remote!.get(at.segment, { start: at.byteOffset, end: at.byteOffset + at.byteLength - 1 }));
    if (bytes.length !== at.byteLength) throw rangeError(at, at.byteOffset + bytes.length);
    return bytes;
  };

  const tarballInfo = async (): Promise<TarballSource | undefined> => {
    const key = tarballKey(night, programid);
    const here = await archive.local.head(key);
    if (here) return { ...here, store: 'local' };
    const there = await remote?.head(key);
    return there ? { ...there, store: 's3' } : undefined;
  };

  return {
    night,
    programid,
    tarballInfo,
    async tarball(range?: ByteRange): Promise<Readable> {
      const info = await tarballInfo();
      if (!info) {
        throw new ZadsError('STORAGE_NOT_FOUND', `the tarball of night ${night} programid ${programid} is in no store`, {
          context: { night, programid, key: tarballKey(night, programid) },
        });
      }
      return info.store === 'local' ? archive.local.get(info.key, range) : remote!.get(info.key, range);
    },
    async alertBytes(at: AlertBytesLocation): Promise<Buffer> {
      if (closed) throw new ZadsError('CLOSED', 'the night reader is closed');
      const end = at.byteOffset + at.byteLength;
      if (at.byteLength === 0) return Buffer.alloc(0);
      if (!pruned) {
        const seg = await localSegment(at.segment, end);
        if (seg && seg.sizeBytes >= end) return readLocal(seg, at);
        if (((await remoteSize(at.segment, end)) ?? -1) >= end) return readRemote(at);
        if (seg) throw rangeError(at, seg.sizeBytes);
      } else {
        const inS3 = await remoteSize(at.segment, end);
        if (inS3 !== undefined && inS3 >= end) return readRemote(at);
        // Past the S3 copy: a late alert appended after the local placeholder.
        const seg = await localSegment(at.segment, end);
        if (seg && seg.sizeBytes >= end && at.byteOffset >= (inS3 ?? 0)) return readLocal(seg, at);
        if (seg || inS3 !== undefined) throw rangeError(at, Math.max(seg?.sizeBytes ?? 0, inS3 ?? 0));
      }
      throw new ZadsError('STORAGE_NOT_FOUND', `segment ${at.segment} is in no store${remote ? '' : ' (no S3 configured)'}`, {
        context: { key: at.segment, night, programid },
      });
    },
    async segmentExtent(segment: string): Promise<SegmentExtent> {
      const seg = await localSegment(segment, Number.MAX_SAFE_INTEGER);
      const localBytes = seg?.sizeBytes;
      const remoteBytes = await remoteSize(segment, Number.MAX_SAFE_INTEGER);
      let availableBytes: number | undefined;
      if (pruned) availableBytes = remoteBytes === undefined ? localBytes : Math.max(remoteBytes, localBytes ?? 0);
      else availableBytes = localBytes ?? remoteBytes;
      return { localBytes, remoteBytes, availableBytes };
    },
    async close(): Promise<void> {
      closed = true;
      await closeLocal();
    },
  };
}

function rangeError(at: AlertBytesLocation, sizeBytes: number): ZadsError {
  return new ZadsError('STORAGE_RANGE_INVALID', `segment ${at.segment} ends at byte ${sizeBytes}, before the alert at ${at.byteOffset}+${at.byteLength}`, {
    context: { key: at.segment, bytePosition: at.byteOffset },
  });
}

function segmentError(err: unknown, key: string): ZadsError {
  return new ZadsError('STORAGE_IO', `cannot open segment ${key}: ${(err as Error).message}`, { cause: err, context: { key } });
}
