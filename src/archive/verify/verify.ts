import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import { Catalogue } from '../catalogue/index.ts';
import { checkNight } from '../close/index.ts';
import { md5sumsKey } from '../layout.ts';
import { openNightReader } from '../remote/index.ts';
import { checkMd5sums } from './md5sums-check.ts';
import { checkSegments } from './segments-check.ts';
import { checkTarball } from './tarball-check.ts';
import type { TarballDigest } from './tarball-check.ts';
import type { Difference } from './types.ts';

export interface VerifyOptions {
  /** Only this night (YYYYMMDD); default every night of the catalogue. */
  night?: string;
  /** Only this programid; default every programid. */
  programid?: number;
  /** Called as each night's check starts (for progress). */
  onNight?: (night: { night: string; programid: number; index: number; count: number }) => void;
}

/** Programids that have an MD5SUMS in the data folder (`alerts/<folder>/MD5SUMS`). */
async function md5sumsProgramids(archive: Archive): Promise<number[]> {
  const out: number[] = [];
  const folders = await readdir(join(archive.dataDir, 'alerts'), { withFileTypes: true }).catch(() => []);
  for (const f of folders) {
    const m = /^(public|partnership|programid(\d+))$/.exec(f.name);
    if (!f.isDirectory() || !m) continue;
    const programid = m[1] === 'public' ? 1 : m[1] === 'partnership' ? 2 : Number(m[2]);
    if (await archive.local.head(md5sumsKey(programid))) out.push(programid);
  }
  return out;
}

/**
 * Checks the archive and lists every difference (an intact archive gives []): each night's segments
 * against the catalogue, each closed night's tarball against the catalogue and the archived bytes,
 * each folder's MD5SUMS against the tarballs. Reads from wherever each night is (a pruned night from
 * S3). Reads only: run it beside an ingest or on a copy. Nothing is held in memory per alert.
 */
export async function verifyArchive(archive: Archive, options: VerifyOptions = {}): Promise<Difference[]> {
  if (options.night !== undefined) checkNight(options.night, options.programid ?? 0);
  const all = archive.catalogue.nights();
  const nights = all.filter((n) => (options.night === undefined || n.night === options.night) && (options.programid === undefined || n.programid === options.programid));
  if (options.night !== undefined && nights.length === 0) {
    throw new ZadsError('INPUT_NOT_FOUND', `night ${options.night}${options.programid === undefined ? '' : ` programid ${options.programid}`} is not in the catalogue of ${archive.dataDir}`, {
      context: { night: options.night },
    });
  }
  const out: Difference[] = [];
  const digests = new Map<string, TarballDigest>();
  // A connection of its own: the temporary table of seen candids must not touch the archive's.
  const catalogue = new Catalogue(archive.catalogue.path, { readonly: true });
  try {
    for (const [index, row] of nights.entries()) {
      options.onNight?.({ night: row.night, programid: row.programid, index, count: nights.length });
      const reader = await openNightReader(archive, row);
      try {
        out.push(...(await checkSegments(archive, catalogue, reader, row)));
        out.push(...(await checkTarball(catalogue, reader, row, digests)));
      } finally {
        await reader.close();
      }
    }
    const programids = new Set(nights.map((n) => n.programid));
    if (options.night === undefined) {
      for (const p of await md5sumsProgramids(archive)) if (options.programid === undefined || p === options.programid) programids.add(p);
    }
    const onlyNights = options.night === undefined ? undefined : new Set([options.night]);
    for (const p of [...programids].sort((a, b) => a - b)) {
      out.push(...(await checkMd5sums(archive, p, nights.filter((n) => n.programid === p), digests, onlyNights)));
    }
  } finally {
    catalogue.close();
  }
  return out;
}
