import { DEFAULT_GZIP_LEVEL, FileSink, TarGzWriter } from '../../alert/index.ts';
import type { DeflatePool } from '../../alert/index.ts';
import { checkWrittenTail } from './written-tail.ts';

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
  /** Bytes of tar stream per block deflated on its own (on any core). Default 1 MiB. */
  blockBytes?: number;
  /** The worker threads that deflate. Default: the process's shared pool, one per core. */
  pool?: DeflatePool;
  /** Called after each member has been handed to the tar writer. */
  onMember?: (written: { members: number; memberBytes: number }) => void;
}

export interface WrittenTarball {
  /** Size of the .tar.gz file, in bytes. */
  sizeBytes: number;
  /** MD5 of the .tar.gz file, hex, as MD5SUMS lists it: taken over the bytes as they were written. */
  md5: string;
  members: number;
  /** Sum of the members' sizes, in bytes (the alert bytes, before tar and gzip). */
  memberBytes: number;
  /** CRC-32 of the tar stream, as in the gzip trailer. */
  crc32: number;
}

export { DEFAULT_GZIP_LEVEL };

/**
 * Streams members into a new gzipped tar file at `path` (which must not exist), compressed on every
 * core, taking the file's MD5 and size as it is written; when the returned promise resolves the file is
 * fsynced and its end has been read back and found as written (see checkWrittenTail). Memory holds a
 * few MiB of blocks whatever the count. On failure the partial file is left for the caller to remove.
 */
export async function writeTarball(path: string, members: AsyncIterable<TarMemberInput>, options: WriteTarballOptions = {}): Promise<WrittenTarball> {
  const sink = await FileSink.create(path);
  const writer = new TarGzWriter(sink, { level: options.gzipLevel ?? DEFAULT_GZIP_LEVEL, blockBytes: options.blockBytes, pool: options.pool, md5: true });
  try {
    for await (const member of members) {
      await writer.add({ name: member.name, bytes: member.bytes, date: member.date });
      options.onMember?.({ members: writer.members, memberBytes: writer.memberBytes });
    }
    const summary = await writer.finish();
    await sink.finish();
    await checkWrittenTail(path, summary);
    return { sizeBytes: summary.sizeBytes, md5: summary.md5!, members: summary.members, memberBytes: summary.memberBytes, crc32: summary.crc32 };
  } catch (err) {
    writer.abort();
    await sink.close().catch(() => undefined);
    throw err;
  }
}
