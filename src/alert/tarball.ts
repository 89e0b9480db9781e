import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { ZadsError } from '../errors.ts';

/** One regular file of a tarball, read whole (ZTF members are single alerts of 40–200 KB). */
export interface TarMember {
  name: string;
  bytes: Buffer;
}

export interface TarReadOptions {
  /** Largest member read into memory; a bigger one is an error, not an allocation. Default 64 MiB. */
  maxMemberBytes?: number;
  /** Only members whose name passes this test are read; the others are skipped without buffering. */
  accept?: (name: string) => boolean;
}

export const DEFAULT_MAX_MEMBER_BYTES = 64 * 1024 * 1024;

/**
 * Streams the regular files out of a gzipped tar (a UW night tarball) without extracting to disk. Memory
 * holds one member at a time. A damaged gzip or tar stream ends the iteration with ARCHIVE_CORRUPT after
 * every complete member before the damage has been yielded.
 */
export async function* iterateTarball(file: string, options: TarReadOptions = {}): AsyncGenerator<TarMember> {
  const raw = createReadStream(file);
  const gunzip = createGunzip();
  // pipe() does not forward errors: a missing file must reach the reader as gunzip's error.
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  try {
    yield* iterateTarStream(gunzip, file, options);
  } finally {
    raw.destroy();
  }
}

export async function* iterateTarStream(
  input: Readable,
  label: string,
  options: TarReadOptions = {},
): AsyncGenerator<TarMember> {
  const maxBytes = options.maxMemberBytes ?? DEFAULT_MAX_MEMBER_BYTES;
  const tar = extract();
  let streamError: unknown;
  input.on('error', (err) => {
    streamError = err;
    tar.destroy(err);
  });
  input.pipe(tar);
  try {
    for await (const entry of tar) {
      const { name, type, size } = entry.header;
      if (type !== 'file' || (options.accept && !options.accept(name))) {
        entry.resume();
        continue;
      }
      if (size !== undefined && size > maxBytes) {
        throw new ZadsError('ARCHIVE_CORRUPT', `member ${name} is ${size} bytes, more than the ${maxBytes} allowed`, {
          context: { file: label, member: name },
        });
      }
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      yield { name, bytes: Buffer.concat(chunks) };
    }
  } catch (err) {
    if (err instanceof ZadsError) throw err;
    const cause = streamError ?? err;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new ZadsError('INPUT_NOT_FOUND', `cannot read ${label}: ${(cause as Error).message}`, {
        cause,
        context: { file: label },
      });
    }
    throw new ZadsError('ARCHIVE_CORRUPT', `tarball ${label} is damaged: ${(cause as Error).message}`, {
      cause,
      context: { file: label },
    });
  } finally {
    input.destroy();
    tar.destroy();
  }
}
