import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ZadsError } from '../errors.ts';
import type { Catalogue } from './catalogue/index.ts';
import { checkKey } from './storage/index.ts';

interface OpenSegment {
  handle: FileHandle;
  sizeBytes: number;
  /** Appends finished so far; a sync covers those finished before it started. */
  appends: number;
  /** `appends` as of the start of the last fdatasync that finished: below `appends` = bytes not yet durable. */
  synced: number;
}

function ioError(err: unknown, action: string, key: string): ZadsError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ZadsError('STORAGE_FULL', `no space left to ${action} segment ${key}`, { cause: err, context: { key } });
  }
  return new ZadsError('STORAGE_IO', `cannot ${action} segment ${key}: ${(err as Error).message}`, { cause: err, context: { key } });
}

/**
 * Append-only segment files under the data folder: each holds the exact bytes of the messages of one
 * source (a Kafka topic-partition of a night, or an imported file), one after the other. Bytes are
 * appended, then `sync()` makes them durable; only after that may the catalogue record them. On start,
 * `recover()` cuts every segment back to the size the catalogue accounts for, so bytes written before a
 * crash but never recorded disappear and are written again.
 */
export class SegmentFiles {
  readonly #root: string;
  readonly #open = new Map<string, OpenSegment>();
  readonly #newDirs = new Set<string>();

  constructor(dataDir: string) {
    this.#root = dataDir;
  }

  #path(key: string): string {
    return join(this.#root, ...checkKey(key).split('/'));
  }

  async #get(key: string): Promise<OpenSegment> {
    let seg = this.#open.get(key);
    if (seg) return seg;
    const path = this.#path(key);
    try {
      const dir = dirname(path);
      await mkdir(dir, { recursive: true });
      const handle = await open(path, 'a+');
      const { size } = await handle.stat();
      // A new file (or a new folder) is durable only once its folder is synced: whoever records the file's
      // bytes syncs the folder too, even when another segment made the folder.
      if (size === 0) this.#newDirs.add(dir);
      seg = { handle, sizeBytes: size, appends: 0, synced: 0 };
    } catch (err) {
      throw ioError(err, 'open', key);
    }
    this.#open.set(key, seg);
    return seg;
  }

  /** Appends the buffers; returns the byte offset of each and the segment's new size. Not yet durable. */
  async append(key: string, buffers: readonly Buffer[]): Promise<{ offsets: number[]; sizeBytes: number }> {
    const seg = await this.#get(key);
    const offsets: number[] = [];
    let at = seg.sizeBytes;
    for (const b of buffers) {
      offsets.push(at);
      at += b.length;
    }
    try {
      // One writev per batch, straight from the messages' buffers (joining them first copied every byte once more).
      let pending = buffers.filter((b) => b.length > 0);
      while (pending.length > 0) {
        let { bytesWritten } = await seg.handle.writev(pending);
        // A short write: go on from the first byte not written.
        while (pending.length > 0 && bytesWritten >= pending[0]!.length) bytesWritten -= pending.shift()!.length;
        if (pending.length > 0 && bytesWritten > 0) pending = [pending[0]!.subarray(bytesWritten), ...pending.slice(1)];
      }
    } catch (err) {
      // The file is opened to append: a part written before the failure (ENOSPC midway) would push every
      // later append past the offsets computed above. Cut it now; recover() would at the next start.
      await seg.handle.truncate(seg.sizeBytes).catch(() => this.#forget(key));
      throw ioError(err, 'append to', key);
    }
    seg.sizeBytes = at;
    seg.appends++;
    return { offsets, sizeBytes: at };
  }

  /** Drops an open segment whose on-disk size is no longer known; the next #get() opens it afresh. */
  #forget(key: string): void {
    const seg = this.#open.get(key);
    this.#open.delete(key);
    void seg?.handle.close().catch(() => undefined);
  }

  /**
   * Cuts one segment back to `recordedBytes`, the size the catalogue records for it, after a batch that
   * appended to it failed before its catalogue transaction (disk full, SQLITE_FULL): the retry then
   * appends where its rows will point. A segment the catalogue does not know (`undefined`) is removed.
   */
  async cutBack(key: string, recordedBytes: number | undefined): Promise<void> {
    const path = this.#path(key);
    const seg = this.#open.get(key);
    try {
      if (recordedBytes === undefined) {
        this.#open.delete(key);
        await seg?.handle.close();
        await rm(path, { force: true });
        return;
      }
      if (seg) {
        if ((await seg.handle.stat()).size > recordedBytes) await seg.handle.truncate(recordedBytes);
        seg.sizeBytes = recordedBytes;
        seg.synced = seg.appends;
        return;
      }
      const size = (await stat(path).catch(() => undefined))?.size;
      if (size === undefined || size <= recordedBytes) return;
      const h = await open(path, 'r+');
      try {
        await h.truncate(recordedBytes);
      } finally {
        await h.close();
      }
    } catch (err) {
      this.#open.delete(key);
      // Not retriable whatever the cause: the file may hold unrecorded bytes until recover() at a restart.
      throw new ZadsError('STORAGE_IO', `cannot cut segment ${key} back to the ${recordedBytes ?? 0} bytes the catalogue records: ${(err as Error).message}; restart to recover`, {
        cause: err,
        context: { key },
      });
    }
  }

  /**
   * Makes appended bytes durable: fdatasync of each touched file — only the given segments' when `keys`
   * are named — and fsync of the folders made for them. Safe to call for different segments at once (the
   * archive ingest syncs each partition's segment on its own): an append that finishes while its file
   * is being synced stays due for the next sync, and a folder counts as durable only once its own fsync
   * has returned.
   */
  async sync(keys?: readonly string[]): Promise<void> {
    const which = keys ? keys.map((k) => [k, this.#open.get(k)] as const) : [...this.#open];
    for (const [key, seg] of which) {
      if (!seg || seg.synced === seg.appends) continue;
      const upTo = seg.appends;
      try {
        await seg.handle.datasync();
      } catch (err) {
        throw ioError(err, 'sync', key);
      }
      seg.synced = Math.max(seg.synced, upTo);
    }
    const dirs = keys ? keys.map((k) => dirname(this.#path(k))).filter((d) => this.#newDirs.has(d)) : [...this.#newDirs];
    for (const dir of dirs) {
      const h = await open(dir, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
      this.#newDirs.delete(dir);
    }
  }

  /** Reads `length` bytes at `offset` of a segment. */
  async read(key: string, offset: number, length: number): Promise<Buffer> {
    const h = await open(this.#path(key), 'r').catch((err: unknown) => {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? new ZadsError('STORAGE_NOT_FOUND', `segment ${key} is missing`, { cause: err, context: { key } })
        : ioError(err, 'open', key);
    });
    try {
      const buf = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await h.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) throw new ZadsError('STORAGE_RANGE_INVALID', `segment ${key} ends before byte ${offset + length}`, { context: { key } });
        done += bytesRead;
      }
      return buf;
    } finally {
      await h.close();
    }
  }

  /**
   * Cuts each segment file back to the size the catalogue records for it and removes segment files the
   * catalogue does not know (written before a crash, never recorded). Returns what was cut.
   */
  async recover(catalogue: Catalogue): Promise<{ key: string; fromBytes: number; toBytes: number }[]> {
    await this.close();
    const known = new Map(catalogue.segments().map((s) => [s.key, s.sizeBytes]));
    const cut: { key: string; fromBytes: number; toBytes: number }[] = [];
    for (const key of await this.#listFiles()) {
      const path = this.#path(key);
      const { size } = await stat(path);
      const keep = known.get(key);
      if (keep === undefined) {
        await rm(path, { force: true });
        cut.push({ key, fromBytes: size, toBytes: 0 });
      } else if (size > keep) {
        const h = await open(path, 'r+');
        try {
          await h.truncate(keep);
          await h.sync();
        } finally {
          await h.close();
        }
        cut.push({ key, fromBytes: size, toBytes: keep });
      } else if (size < keep) {
        throw new ZadsError('DATA_MISMATCH', `segment ${key} has ${size} bytes but the catalogue records ${keep}: bytes were lost after they were made durable`, {
          context: { key },
        });
      }
    }
    for (const [key, size] of known) {
      if (size > 0 && !(await stat(this.#path(key)).catch(() => undefined))) {
        throw new ZadsError('STORAGE_NOT_FOUND', `segment ${key} (${size} bytes in the catalogue) is missing`, { context: { key } });
      }
    }
    return cut;
  }

  async #listFiles(): Promise<string[]> {
    const root = join(this.#root, 'segments');
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && e.name.endsWith('.seg')) out.push(relative(this.#root, full).split(sep).join('/'));
      }
    };
    await walk(root);
    return out;
  }

  /** Closes the open files (appended bytes not yet synced stay undurable). */
  async close(): Promise<void> {
    const handles = [...this.#open.values()];
    this.#open.clear();
    for (const seg of handles) await seg.handle.close().catch(() => undefined);
  }
}
