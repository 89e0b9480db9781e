import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { iterateTarball } from '../../../src/alert/index.ts';
import type { TarMember } from '../../../src/alert/index.ts';

/**
 * Writes a gzipped tar of the members, as the UW archive lays them out (regular files at the top
 * level), streaming with backpressure so a large test night never sits in memory whole.
 */
export async function writeTarball(path: string, members: Iterable<TarMember> | AsyncIterable<TarMember>, options: { gzipLevel?: number } = {}): Promise<void> {
  const tar = pack();
  const written = pipeline(tar, createGzip({ level: options.gzipLevel ?? 6 }), createWriteStream(path));
  for await (const m of members) {
    await new Promise<void>((resolve, reject) => {
      tar.entry({ name: m.name, size: m.bytes.length, mtime: new Date(Date.UTC(2018, 7, 19, 8)), mode: 0o644 }, m.bytes, (err) => (err ? reject(err) : resolve()));
    });
  }
  tar.finalize();
  await written;
}

/** Every member of a tarball, read whole (small test tarballs only). */
export async function membersOf(path: string): Promise<TarMember[]> {
  const out: TarMember[] = [];
  for await (const m of iterateTarball(path)) out.push(m);
  return out;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
