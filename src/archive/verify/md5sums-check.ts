import { createHash } from 'node:crypto';
import type { Archive } from '../archive.ts';
import type { NightRow } from '../catalogue/index.ts';
import { readMd5sums } from '../md5sums.ts';
import { md5sumsKey, parseTarballName, programFolder, tarballName } from '../layout.ts';
import type { TarballDigest } from './tarball-check.ts';
import type { Difference } from './types.ts';

async function digestOf(archive: Archive, key: string): Promise<TarballDigest | undefined> {
  const local = await archive.local.head(key);
  const store = local ? archive.local : (await archive.remote?.head(key)) ? archive.remote : undefined;
  if (!store) return undefined;
  const hash = createHash('md5');
  let sizeBytes = 0;
  for await (const chunk of await store.get(key)) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { md5: hash.digest('hex'), sizeBytes };
}

/**
 * One program folder's MD5SUMS against its tarballs: every line well formed and naming a tarball that
 * is there with that MD5; every closed night of `nights` listed. With `onlyNights`, lines of other
 * nights are not looked at. Digests already computed (by the tarball check) are reused.
 */
export async function checkMd5sums(
  archive: Archive,
  programid: number,
  nights: readonly NightRow[],
  digests: Map<string, TarballDigest>,
  onlyNights?: ReadonlySet<string>,
): Promise<Difference[]> {
  const out: Difference[] = [];
  const key = md5sumsKey(programid);
  const { folder } = programFolder(programid);
  const { entries, malformed } = await readMd5sums(archive.local, key);
  if (!onlyNights) {
    for (const m of malformed) out.push({ night: null, programid, kind: 'md5sums-malformed', key, detail: `${key} line ${m.line} is not "<md5>  <name>": ${JSON.stringify(m.text.slice(0, 120))}` });
  }
  const byNight = new Map(nights.map((n) => [n.night, n]));
  const listed = new Set<string>();
  for (const e of entries) {
    listed.add(e.name);
    const parsed = parseTarballName(e.name);
    const night = parsed && parsed.programid === programid ? parsed.night : null;
    if (onlyNights && (night === null || !onlyNights.has(night))) continue;
    const tarball = `${folder}/${e.name}`;
    let digest = digests.get(tarball);
    if (!digest) {
      digest = await digestOf(archive, tarball);
      if (digest) digests.set(tarball, digest);
    }
    if (!digest) {
      // A closed night without its tarball is reported by the tarball check already.
      if (night === null || byNight.get(night)?.state !== 'closed') {
        out.push({ night, programid, kind: 'md5sums-orphan', key, detail: `${key} lists ${e.name}, which no store holds` });
      }
      continue;
    }
    if (digest.md5 !== e.md5) {
      out.push({ night, programid, kind: 'md5sums-mismatch', key: tarball, detail: `${key} gives ${e.md5} for ${e.name}, its bytes have MD5 ${digest.md5}` });
    }
  }
  for (const n of nights) {
    if (n.state !== 'closed' || n.programid !== programid) continue;
    const name = tarballName(n.night, programid);
    if (!listed.has(name)) out.push({ night: n.night, programid, kind: 'md5sums-missing', key, detail: `${key} has no line for ${name}` });
  }
  return out;
}
