import { rename, rm } from 'node:fs/promises';
import { FileSink, TarGzWriter } from '../../alert/index.ts';

/** What a finished tarball holds. */
export interface FilteredTarball {
  path: string;
  members: number;
  /** Sum of the members' sizes, in bytes. */
  memberBytes: number;
  /** Members not written because one of the same name already was (one candid in two inputs). */
  duplicates: number;
}

/**
 * Writes a UW-layout tarball — gzipped tar, one `<candid>.avro` member per alert with its exact bytes —
 * through the project's one tar.gz writer (alert/targz, compressed on every core), streamed: each member
 * is taken once there is room, so memory holds a few blocks whatever the count. The file is written
 * beside `path` and renamed into place by `finish()`, so `path` never holds half a result.
 */
export class TarballWriter {
  readonly path: string;
  readonly #partial: string;
  readonly #sink: Promise<FileSink>;
  #writer: TarGzWriter | undefined;
  readonly #names = new Set<string>();
  #duplicates = 0;

  constructor(path: string) {
    this.path = path;
    const partial = `${path}.partial-${process.pid}`;
    this.#partial = partial;
    // A failure to open surfaces at the first add or at finish.
    this.#sink = (async () => {
      await rm(partial, { force: true });
      return FileSink.create(partial);
    })();
    this.#sink.catch(() => undefined);
  }

  async #open(): Promise<TarGzWriter> {
    this.#writer ??= new TarGzWriter(await this.#sink);
    return this.#writer;
  }

  /** Appends one member; false (and nothing written) when a member of that name is there already. */
  async add(name: string, bytes: Buffer, date: Date): Promise<boolean> {
    if (this.#names.has(name)) {
      this.#duplicates++;
      return false;
    }
    this.#names.add(name);
    await (await this.#open()).add({ name, bytes, date });
    return true;
  }

  /** Ends the tarball, makes it durable and moves it to `path`. */
  async finish(): Promise<FilteredTarball> {
    const writer = await this.#open();
    const summary = await writer.finish();
    await (await this.#sink).finish();
    await rename(this.#partial, this.path);
    return { path: this.path, members: summary.members, memberBytes: summary.memberBytes, duplicates: this.#duplicates };
  }

  /** Stops writing and removes the partial file; safe after a failure. */
  async abort(): Promise<void> {
    this.#writer?.abort();
    const sink = await this.#sink.catch(() => undefined);
    await sink?.close().catch(() => undefined);
    await rm(this.#partial, { force: true });
  }
}
