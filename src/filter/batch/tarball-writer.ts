import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

/** What a finished tarball holds. */
export interface WrittenTarball {
  path: string;
  members: number;
  /** Sum of the members' sizes, in bytes. */
  memberBytes: number;
  /** Members not written because one of the same name already was (one candid in two inputs). */
  duplicates: number;
}

/**
 * Writes a UW-layout tarball — gzipped tar, one `<candid>.avro` member per alert with its exact bytes —
 * streamed: each member is handed over once the tar stream has taken the previous one, so memory holds
 * a member and the streams' buffers. The file is written beside `path` and renamed into place by
 * `finish()`, so `path` never holds half a result.
 */
export class TarballWriter {
  readonly path: string;
  readonly #partial: string;
  readonly #pack = tar.pack();
  readonly #written: Promise<void>;
  readonly #failed: Promise<never>;
  readonly #names = new Set<string>();
  #memberBytes = 0;
  #duplicates = 0;

  constructor(path: string) {
    this.path = path;
    this.#partial = `${path}.partial-${process.pid}`;
    this.#written = pipeline(this.#pack, createGzip(), createWriteStream(this.#partial, { mode: 0o644, flush: true }));
    // A failure of the file side must also stop a member waiting to be taken.
    this.#failed = this.#written.then(() => new Promise<never>(() => undefined));
    this.#failed.catch(() => undefined);
  }

  /** Appends one member; false (and nothing written) when a member of that name is there already. */
  async add(name: string, bytes: Buffer, date: Date): Promise<boolean> {
    if (this.#names.has(name)) {
      this.#duplicates++;
      return false;
    }
    this.#names.add(name);
    const taken = new Promise<void>((resolve, reject) => {
      this.#pack.entry({ name, size: bytes.length, mtime: date, mode: 0o644, type: 'file' }, bytes, (err) => (err ? reject(err) : resolve()));
    });
    await Promise.race([taken, this.#failed]);
    this.#memberBytes += bytes.length;
    return true;
  }

  /** Ends the tarball and moves it to `path`. */
  async finish(): Promise<WrittenTarball> {
    this.#pack.finalize();
    await this.#written;
    await rename(this.#partial, this.path);
    return { path: this.path, members: this.#names.size, memberBytes: this.#memberBytes, duplicates: this.#duplicates };
  }

  /** Stops writing and removes the partial file; safe after a failure. */
  async abort(): Promise<void> {
    this.#pack.destroy();
    await this.#written.catch(() => undefined);
    await rm(this.#partial, { force: true });
  }
}
