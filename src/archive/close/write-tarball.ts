import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TarArchive } from 'archiver';
import { MemberDigest } from './member.ts';

/** One member to write: a regular file with the exact bytes of one alert. */
export interface TarMemberInput {
  name: string;
  /** Modification time recorded in the tar header (whole seconds). */
  date: Date;
  bytes: Buffer;
}

export interface WriteTarballOptions {
  /** gzip level, 0 (store) to 9 (smallest). Default 6, what `gzip` and zlib use. */
  gzipLevel?: number;
  /** Called after each member has been handed to the tar writer. */
  onMember?: (written: { members: number; memberBytes: number }) => void;
}

export interface WrittenTarball {
  /** Size of the .tar.gz file, in bytes. */
  sizeBytes: number;
  /** MD5 of the .tar.gz file, hex, as MD5SUMS lists it. */
  md5: string;
  members: number;
  /** Sum of the members' sizes, in bytes (the alert bytes, before tar and gzip). */
  memberBytes: number;
  /** MemberDigest of the members as written, to compare with the file read back. */
  digest: string;
}

export const DEFAULT_GZIP_LEVEL = 6;
/** Output buffer of zlib, in bytes. */
const GZIP_CHUNK_BYTES = 64 * 1024;
/** Buffered between the tar writer and gzip, in bytes: the tar writer stops taking members past this. */
const TAR_BUFFER_BYTES = 4 * 1024 * 1024;

/** Member mode 0644: regular files readable by all, as any tarball of data files has them. */
const MEMBER_MODE = 0o644;

/** Appends one member and waits until the tar writer has taken it (its backpressure reaches us here). */
function appendMember(tar: TarArchive, member: TarMemberInput): Promise<void> {
  return new Promise((resolve, reject) => {
    const onEntry = (): void => {
      tar.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      tar.off('entry', onEntry);
      reject(err);
    };
    tar.once('entry', onEntry);
    tar.once('error', onError);
    tar.append(member.bytes, { name: member.name, date: member.date, mode: MEMBER_MODE });
  });
}

/**
 * Streams members into a new gzipped tar file at `path` (which must not exist), computing the file's MD5
 * and size as it is written; the file is fsynced when the returned promise resolves. Members are appended one at a time, each once the writer
 * has taken the previous one, so memory holds one member plus the streams' buffers whatever the count.
 * On failure the partial file is left for the caller to remove.
 */
export async function writeTarball(path: string, members: AsyncIterable<TarMemberInput>, options: WriteTarballOptions = {}): Promise<WrittenTarball> {
  const level = options.gzipLevel ?? DEFAULT_GZIP_LEVEL;
  // Bigger buffers than the streams' defaults (16 KiB): the tar writer takes the next alerts while gzip
  // works on the last ones, and zlib goes to its thread pool a quarter as often. Memory: a few MiB.
  const tar = new TarArchive({ gzip: true, gzipOptions: { level, chunkSize: GZIP_CHUNK_BYTES }, highWaterMark: TAR_BUFFER_BYTES });
  const md5 = createHash('md5');
  let sizeBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      md5.update(chunk);
      sizeBytes += chunk.length;
      callback(null, chunk);
    },
  });
  // `flush`: fsync before the stream closes its descriptor, so the file is durable when `written` resolves.
  const written = pipeline(tar, tap, createWriteStream(path, { flags: 'wx', mode: 0o644, flush: true }));
  // A failure of the file side must stop the appends too: each waits on this as well.
  const failed = written.then(() => new Promise<never>(() => undefined));
  failed.catch(() => undefined);
  const digest = new MemberDigest();
  try {
    for await (const member of members) {
      digest.add(member.name, member.bytes);
      await Promise.race([appendMember(tar, member), failed]);
      options.onMember?.({ members: digest.members, memberBytes: digest.bytes });
    }
    await Promise.race([tar.finalize(), failed]);
    await written;
  } catch (err) {
    tar.abort();
    tap.destroy();
    await written.catch(() => undefined);
    throw err;
  }
  return { sizeBytes, md5: md5.digest('hex'), members: digest.members, memberBytes: digest.bytes, digest: digest.digest() };
}
