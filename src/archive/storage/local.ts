import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { ZadsError } from '../../errors.ts';
import { checkKey, resolveRange } from './keys.ts';
import type { ByteRange, ObjectInfo, ObjectStore } from './types.ts';

function storageError(err: unknown, action: string, key: string): ZadsError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ZadsError('STORAGE_FULL', `no space left to ${action} ${key}`, { cause: err, context: { key } });
  }
  if (code === 'ENOENT') return new ZadsError('STORAGE_NOT_FOUND', `no object ${key}`, { cause: err, context: { key } });
  return new ZadsError('STORAGE_IO', `cannot ${action} ${key}: ${(err as Error).message}`, { cause: err, context: { key } });
}

/**
 * Objects as files under a root folder. A put writes a temporary file, fsyncs it, renames it into
 * place and fsyncs the folder, so a reader sees the old object or the whole new one, and a crash
 * never leaves a half-written file under the real name.
 */
export class LocalStore implements ObjectStore {
  readonly name: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.name = `local:${root}`;
  }

  #path(key: string): string {
    return join(this.#root, ...checkKey(key).split('/'));
  }

  async put(key: string, body: Buffer | Readable): Promise<ObjectInfo> {
    const path = this.#path(key);
    const tmp = `${path}.tmp-${randomUUID()}`;
    const hash = createHash('md5');
    try {
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        const chunks: AsyncIterable<Buffer> = Buffer.isBuffer(body) ? Readable.from([body]) : body;
        for await (const chunk of chunks) {
          hash.update(chunk);
          let written = 0;
          while (written < chunk.length) {
            const { bytesWritten } = await fh.write(chunk, written, chunk.length - written);
            written += bytesWritten;
          }
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      const dir = await open(dirname(path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      await rm(tmp, { force: true });
      throw storageError(err, 'write', key);
    }
    const info = await stat(path);
    return { key, sizeBytes: info.size, etag: `"${hash.digest('hex')}"`, modified: info.mtime };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.#path(key);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      throw storageError(err, 'read', key);
    }
    if (!range) return createReadStream(path);
    const { start, end } = resolveRange(range, size, key);
    return createReadStream(path, { start, end });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.#path(key));
      if (!info.isFile()) return undefined;
      // A cheap validator: size and modification time change with every put.
      return { key, sizeBytes: info.size, etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`, modified: info.mtime };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storageError(err, 'stat', key);
    }
  }

  async *list(prefix = ''): AsyncIterable<ObjectInfo> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.includes('.tmp-')) keys.push(relative(this.#root, full).split(sep).join('/'));
      }
    };
    await walk(this.#root);
    for (const key of keys.filter((k) => k.startsWith(prefix)).sort()) {
      const info = await this.head(key);
      if (info) yield info;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async close(): Promise<void> {}
}
