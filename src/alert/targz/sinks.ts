import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { ByteSink } from './parallel-gzip.ts';

/** A new file (it must not exist: `wx`) written with plain positional writes. */
export class FileSink implements ByteSink {
  readonly path: string;
  readonly #handle: FileHandle;
  #position = 0;
  #closed = false;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  static async create(path: string): Promise<FileSink> {
    return new FileSink(path, await open(path, 'wx', 0o644));
  }

  /** Bytes written so far. */
  get sizeBytes(): number {
    return this.#position;
  }

  async write(chunk: Buffer): Promise<void> {
    // write(2) may take less than asked (a signal, a full disk at the edge): the rest is written again.
    let at = 0;
    while (at < chunk.length) {
      const { bytesWritten } = await this.#handle.write(chunk, at, chunk.length - at, this.#position);
      at += bytesWritten;
      this.#position += bytesWritten;
    }
  }

  /** fsync, then close: the file is durable when this resolves. */
  async finish(): Promise<void> {
    await this.#handle.sync();
    await this.close();
  }

  /** Closes without syncing (after a failure). Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

/**
 * A Writable (an HTTP response) as a sink: `write` waits for `drain` when the stream's buffer is full,
 * and fails when the stream closes or errs first, so a client that goes away stops the writer.
 */
export function streamSink(stream: Writable): ByteSink {
  return {
    write(chunk) {
      if (stream.destroyed || stream.writableEnded) return Promise.reject(new Error('the output stream is closed'));
      if (stream.write(chunk)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const done = (err?: Error): void => {
          stream.off('drain', onDrain);
          stream.off('close', onClose);
          stream.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = (): void => done();
        const onClose = (): void => done(new Error('the output stream closed'));
        stream.on('drain', onDrain);
        stream.on('close', onClose);
        stream.on('error', done);
      });
    },
  };
}
