import { open } from 'node:fs/promises';
import type { GzipSummary } from '../../alert/index.ts';
import { ZadsError } from '../../errors.ts';

/**
 * Checks a just-written, fsynced tarball without reading it all back: its size is what was written, and
 * its last bytes — the final deflate block and the gzip trailer (CRC-32 and length of the whole tar
 * stream) — are on disk as they were handed over.
 *
 * Why that is enough. The members are counted and sized as they go into the tar stream (the close then
 * compares them with the catalogue), the MD5 is taken over exactly the bytes handed to write(2), every
 * write is checked to have taken its whole buffer, and fsync returned without error: the kernel holds
 * every byte we gave it, durably. What can still differ from what we wrote is what a torn write hides —
 * a file cut short or a last write that did not land (a crash of the machine or a full disk at the
 * end, a write reported done before a failed flush) — and that shows at the end: in the size and in the
 * final bytes. Reading the whole file back, as the close did before, read the kernel's page cache, not
 * the disk, so it could see nothing more than this, at the cost of a second pass over tens of GB. The
 * compressed stream itself is the deterministic output of zlib joined as pigz does; the joins are tested
 * against GNU tar, Python's tarfile and fastavro (test/archive/close), not re-checked on every night.
 */
export async function checkWrittenTail(path: string, written: Pick<GzipSummary, 'sizeBytes' | 'tail'> & { crc32: number; inputBytes: number }): Promise<void> {
  const fail = (why: string): ZadsError => new ZadsError('ARCHIVE_CORRUPT', `the tarball just written ${why}`, { context: { file: path } });
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== written.sizeBytes) throw fail(`is ${size} bytes on disk, not the ${written.sizeBytes} written`);
    const tail = Buffer.alloc(written.tail.length);
    const { bytesRead } = await handle.read(tail, 0, tail.length, size - tail.length);
    if (bytesRead !== tail.length || !tail.equals(written.tail)) throw fail(`does not end with the ${tail.length} bytes written last`);
    // The trailer is the stream's own record of what it holds: CRC-32 and length (mod 2^32) of the tar.
    const crc = tail.readUInt32LE(tail.length - 8);
    const isize = tail.readUInt32LE(tail.length - 4);
    if (crc !== written.crc32 >>> 0 || isize !== written.inputBytes % 2 ** 32) throw fail('has a gzip trailer that does not match the tar stream written');
  } finally {
    await handle.close();
  }
}
