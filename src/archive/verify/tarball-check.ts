import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { iterateTarStream } from '../../alert/index.ts';
import type { TarMember } from '../../alert/index.ts';
import { toZadsError } from '../../errors.ts';
import type { Catalogue, NightRow } from '../catalogue/index.ts';
import { candidOfMember } from '../close/index.ts';
import type { NightReader } from '../remote/index.ts';
import type { Difference } from './types.ts';

export interface TarballDigest {
  md5: string;
  sizeBytes: number;
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

/**
 * Reads a tarball once: its MD5 and size over the raw bytes, and its members through gunzip and tar.
 * A damaged stream stops the members (the error is returned) but not the MD5, which goes on to the end.
 */
async function readTarball(source: Readable, label: string, onMember: (m: TarMember) => Promise<void>): Promise<TarballDigest & { error?: Error; members: number }> {
  const hash = createHash('md5');
  let sizeBytes = 0;
  const tap = new PassThrough();
  tap.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    sizeBytes += chunk.length;
  });
  source.on('error', (err) => tap.destroy(err));
  source.pipe(tap);
  const gunzip = createGunzip();
  tap.on('error', (err) => gunzip.destroy(err));
  tap.pipe(gunzip);
  let members = 0;
  let error: Error | undefined;
  try {
    for await (const m of iterateTarStream(gunzip, label)) {
      members++;
      await onMember(m);
    }
  } catch (err) {
    error = toZadsError(err, { file: label });
  }
  tap.unpipe(gunzip);
  // Whatever the tar reader left unread still counts for the MD5.
  if (!tap.readableEnded && !tap.destroyed) {
    await new Promise<void>((resolve) => {
      tap.once('end', resolve);
      tap.once('error', () => resolve());
      tap.once('close', resolve);
      tap.resume();
    });
  }
  return { md5: hash.digest('hex'), sizeBytes, error, members };
}

/**
 * A closed night's tarball against the catalogue: it exists; its MD5, size and member count are what the
 * catalogue recorded at close; every member is a row of the night (once) whose archived bytes it holds
 * exactly; every row of the night is a member. Members may come in any order (imported UW tarballs are
 * in time order): the candids seen are kept in a temporary table of `catalogue`'s connection (its
 * candidSet), not in memory. Records the tarball's MD5 in `digests` for the MD5SUMS check.
 */
export async function checkTarball(catalogue: Catalogue, reader: NightReader, row: NightRow, digests: Map<string, TarballDigest>): Promise<Difference[]> {
  const { night, programid } = row;
  const out: Difference[] = [];
  const info = await reader.tarballInfo();
  if (!info) {
    if (row.state === 'closed') out.push({ night, programid, kind: 'tarball-missing', key: row.tarballKey ?? undefined, detail: `night ${night} programid ${programid} is closed but no store has its tarball ${row.tarballKey ?? ''}` });
    return out;
  }
  const key = info.key;
  const checkMembers = row.state === 'closed';
  const seen = catalogue.candidSet();
  const where = `${key} (${info.store})`;
  const read = await readTarball(await reader.tarball(), where, async (m) => {
    if (!checkMembers) return;
    const candid = candidOfMember(m.name);
    if (candid === undefined) {
      out.push({ night, programid, kind: 'member-extra', key, detail: `member ${m.name} of ${key} is not named <candid>.avro` });
      return;
    }
    const c = String(candid);
    if (!seen.add(candid)) {
      out.push({ night, programid, kind: 'member-duplicate', key, candid: c, detail: `member ${m.name} is in ${key} more than once` });
      return;
    }
    const alert = catalogue.alert(candid);
    if (!alert || alert.night !== night || alert.programid !== programid) {
      const elsewhere = alert ? ` (the catalogue has it in night ${alert.night} programid ${alert.programid})` : '';
      out.push({ night, programid, kind: 'member-extra', key, candid: c, detail: `member ${m.name} of ${key} is no alert of this night in the catalogue${elsewhere}` });
      return;
    }
    let archived: Buffer;
    try {
      archived = await reader.alertBytes(alert);
    } catch {
      return; // reported by the segment check (row-bytes-missing / row-bytes-short)
    }
    if (!archived.equals(m.bytes)) {
      out.push({
        night, programid, kind: 'member-bytes-differ', key, candid: c,
        detail: `member ${m.name} (${m.bytes.length} bytes, MD5 ${md5(m.bytes)}) differs from the archived alert at ${alert.segment} ${alert.byteOffset}+${alert.byteLength} (MD5 ${md5(archived)})`,
      });
    }
  });
  digests.set(key, { md5: read.md5, sizeBytes: read.sizeBytes });
  if (read.error) out.push({ night, programid, kind: 'tarball-unreadable', key, detail: `${where} is damaged after ${read.members} member(s): ${read.error.message}` });
  if (!checkMembers) return out;

  const recorded: string[] = [];
  if (row.tarballMd5 !== null && row.tarballMd5 !== read.md5) recorded.push(`MD5 ${read.md5}, recorded ${row.tarballMd5}`);
  if (row.tarballBytes !== null && row.tarballBytes !== read.sizeBytes) recorded.push(`${read.sizeBytes} bytes, recorded ${row.tarballBytes}`);
  if (!read.error && row.tarballAlerts !== null && row.tarballAlerts !== read.members) recorded.push(`${read.members} members, recorded ${row.tarballAlerts}`);
  if (recorded.length > 0) out.push({ night, programid, kind: 'tarball-catalogue-mismatch', key, detail: `${where}: ${recorded.join('; ')}` });

  // Past damage nothing is known of the members: missing ones would be noise.
  if (!read.error) {
    for (const candid of seen.missingOfNight(night, programid)) {
      const c = String(candid);
      out.push({ night, programid, kind: 'member-missing', key, candid: c, detail: `alert ${c} of the catalogue is not in ${key}` });
    }
  }
  seen.clear();
  return out;
}
