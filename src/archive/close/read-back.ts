import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { ZadsError } from '../../errors.ts';
import { MemberDigest } from './member.ts';
import type { WrittenTarball } from './write-tarball.ts';

/** Digest of the members of a .tar.gz file, hashing each member's bytes as they stream (none is held whole). */
async function digestFile(path: string): Promise<MemberDigest> {
  const raw = createReadStream(path);
  const gunzip = createGunzip();
  const tar = extract();
  raw.on('error', (err) => gunzip.destroy(err));
  gunzip.on('error', (err) => tar.destroy(err));
  raw.pipe(gunzip).pipe(tar);
  const digest = new MemberDigest();
  try {
    for await (const entry of tar) {
      const { name, type, size } = entry.header;
      if (type !== 'file') throw new Error(`member ${name} is a ${type ?? 'entry of unknown type'}, not a regular file`);
      digest.begin(name, size ?? 0);
      for await (const chunk of entry) digest.update(chunk as Buffer);
    }
  } finally {
    raw.destroy();
  }
  return digest;
}

/**
 * Reads a just-written tarball back from disk (gunzip, tar) and checks that it holds exactly the members
 * that were written: same count, names, order and bytes (by MemberDigest over the bytes handed to the tar
 * writer). Throws ARCHIVE_CORRUPT naming the file otherwise.
 */
export async function checkReadBack(path: string, written: WrittenTarball, context: { night: string; programid: number }): Promise<void> {
  let digest: MemberDigest;
  try {
    digest = await digestFile(path);
  } catch (cause) {
    throw new ZadsError('ARCHIVE_CORRUPT', `the tarball just written does not read back: ${(cause as Error).message}`, {
      cause,
      context: { file: path, night: context.night, programid: context.programid },
    });
  }
  if (digest.members !== written.members || digest.digest() !== written.digest) {
    throw new ZadsError(
      'ARCHIVE_CORRUPT',
      `the tarball read back holds ${digest.members} member(s) (${digest.bytes} bytes) that differ from the ${written.members} written (${written.memberBytes} bytes)`,
      { context: { file: path, night: context.night, programid: context.programid } },
    );
  }
}
