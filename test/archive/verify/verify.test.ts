import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { iterateTarball } from '../../../src/alert/index.ts';
import type { TarMember } from '../../../src/alert/index.ts';
import { closeNight, writeTarball } from '../../../src/archive/close/index.ts';
import type { TarMemberInput } from '../../../src/archive/close/index.ts';
import { md5sumsKey, tarballKey } from '../../../src/archive/index.ts';
import type { AlertRow } from '../../../src/archive/index.ts';
import { verifyArchive } from '../../../src/archive/verify/index.ts';
import type { Difference } from '../../../src/archive/verify/index.ts';
import { addAlerts, realAlerts, renumbered, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';

const NIGHT = '20180819';
const SEG1 = 'segments/20180819/programid1/p1.seg';

function kinds(diffs: readonly Difference[]): string[] {
  return [...new Set(diffs.map((d) => d.kind))].sort();
}

async function members(file: string): Promise<TarMember[]> {
  const out: TarMember[] = [];
  for await (const m of iterateTarball(file)) out.push(m);
  return out;
}

/** Replaces a closed night's tarball with the given members, as if someone had rewritten it. */
async function rewriteTarball(t: TempArchive, list: TarMember[]): Promise<void> {
  const path = join(t.dataDir, tarballKey(NIGHT, 1));
  rmSync(path);
  async function* gen(): AsyncGenerator<TarMemberInput> {
    for (const m of list) yield { name: m.name, date: new Date(0), bytes: m.bytes };
  }
  await writeTarball(path, gen());
}

describe('verifyArchive', () => {
  let t: TempArchive;
  let rows: AlertRow[];
  beforeEach(async () => {
    t = await tempArchive();
    const alerts = await realAlerts();
    rows = [
      ...(await addAlerts(t.archive, alerts.slice(0, 30), { night: NIGHT, programid: 1, source: 'p0' })),
      ...(await addAlerts(t.archive, alerts.slice(30), { night: NIGHT, programid: 1, source: 'p1' })),
    ];
    // Candids are unique across the archive: the other nights get the same alerts under new candids.
    await addAlerts(t.archive, [...renumbered(alerts, 4, 700_000_000_000_000_000n)], { night: NIGHT, programid: 2, source: 'p0' });
    await addAlerts(t.archive, [...renumbered(alerts, 2, 800_000_000_000_000_000n)], { night: '20180820', programid: 1, source: 'p0' });
    await closeNight(t.archive, { night: NIGHT, programid: 1 });
    await closeNight(t.archive, { night: NIGHT, programid: 2 });
    // 20180820 stays open: its segments are checked, it has no tarball yet, and that is no difference.
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('finds nothing wrong in an intact archive, whole or one night', async () => {
    expect(await verifyArchive(t.archive)).toEqual([]);
    expect(await verifyArchive(t.archive, { night: NIGHT, programid: 1 })).toEqual([]);
  });

  it('accepts members in any order (UW tarballs are in time order)', async () => {
    const list = (await members(join(t.dataDir, tarballKey(NIGHT, 1)))).reverse();
    await rewriteTarball(t, list);
    const diffs = await verifyArchive(t.archive, { night: NIGHT, programid: 1 });
    // Only the recorded MD5/size and the MD5SUMS line disagree with the new file; every member matches.
    expect(kinds(diffs)).toEqual(['md5sums-mismatch', 'tarball-catalogue-mismatch']);
  });

  it('lists a flipped tarball byte', async () => {
    const path = join(t.dataDir, tarballKey(NIGHT, 1));
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(path, bytes);
    const diffs = await verifyArchive(t.archive);
    expect(kinds(diffs)).toEqual(expect.arrayContaining(['md5sums-mismatch', 'tarball-catalogue-mismatch']));
    expect(diffs.some((d) => d.kind === 'tarball-unreadable' || d.kind === 'member-bytes-differ')).toBe(true);
    expect(diffs.every((d) => d.night === NIGHT && d.programid === 1)).toBe(true);
  });

  it('lists a member whose catalogue row was deleted', async () => {
    const gone = rows[7]!.candid;
    // Damage from outside: another connection deletes the row (the catalogue itself never deletes one).
    const db = new Database(t.archive.catalogue.path);
    try {
      db.prepare('DELETE FROM alerts WHERE candid = ?').run(gone);
    } finally {
      db.close();
    }
    const diffs = await verifyArchive(t.archive);
    expect(diffs).toEqual([expect.objectContaining({ night: NIGHT, programid: 1, kind: 'member-extra', candid: String(gone) })]);
  });

  it('lists an alert missing from the tarball, and a member whose bytes differ', async () => {
    const list = await members(join(t.dataDir, tarballKey(NIGHT, 1)));
    const dropped = list.splice(3, 1)[0]!;
    const changed = list[10]!;
    const bytes = Buffer.from(changed.bytes);
    bytes[bytes.length - 100]! ^= 0x01;
    list[10] = { name: changed.name, bytes };
    await rewriteTarball(t, list);
    const diffs = await verifyArchive(t.archive, { night: NIGHT });
    expect(diffs.filter((d) => d.kind === 'member-missing')).toEqual([expect.objectContaining({ candid: dropped.name.replace('.avro', '') })]);
    expect(diffs.filter((d) => d.kind === 'member-bytes-differ')).toEqual([expect.objectContaining({ candid: changed.name.replace('.avro', '') })]);
    expect(diffs.find((d) => d.kind === 'tarball-catalogue-mismatch')?.detail).toContain('41 members, recorded 42');
  });

  it('lists a truncated segment and the alerts cut short by it', async () => {
    const path = join(t.dataDir, SEG1);
    const size = readFileSync(path).length;
    truncateSync(path, size - 1000);
    const last = rows.filter((r) => r.segment === SEG1).sort((a, b) => b.byteOffset - a.byteOffset)[0]!;
    const diffs = await verifyArchive(t.archive);
    expect(diffs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'segment-smaller', key: SEG1, detail: expect.stringContaining(`has ${size - 1000} bytes, the catalogue records ${size}`) }),
        expect.objectContaining({ kind: 'row-bytes-short', key: SEG1, candid: String(last.candid) }),
      ]),
    );
    expect(diffs.filter((d) => d.kind === 'row-bytes-short')).toHaveLength(1);
  });

  it('lists segments larger than recorded, missing, and unknown to the catalogue', async () => {
    appendFileSync(join(t.dataDir, SEG1), Buffer.alloc(10));
    writeFileSync(join(t.dataDir, 'segments/20180819/programid1/stray.seg'), Buffer.alloc(5));
    renameSync(join(t.dataDir, 'segments/20180820/programid1/p0.seg'), join(t.dataDir, 'segments/20180820/programid1/p0.moved'));
    const diffs = await verifyArchive(t.archive);
    expect(diffs.filter((d) => d.kind.startsWith('segment-')).map((d) => `${d.kind} ${d.key}`).sort()).toEqual([
      `segment-larger ${SEG1}`,
      'segment-missing segments/20180820/programid1/p0.seg',
      'segment-unknown segments/20180819/programid1/stray.seg',
    ]);
    expect(diffs.filter((d) => d.kind === 'row-bytes-missing')).toHaveLength(2);
  });

  it('lists an edited MD5SUMS line, a malformed line, a missing line and an orphan line', async () => {
    const sums = join(t.dataDir, md5sumsKey(1));
    const text = readFileSync(sums, 'utf8').replace(/^[0-9a-f]{32}/, '0'.repeat(32));
    writeFileSync(sums, `${text}not a line of md5sum\n${'1'.repeat(32)}  ztf_public_20180101.tar.gz\n`);
    writeFileSync(join(t.dataDir, md5sumsKey(2)), '');
    const diffs = await verifyArchive(t.archive);
    expect(diffs.map((d) => `${d.kind} ${d.night}/${d.programid}`).sort()).toEqual([
      'md5sums-malformed null/1',
      `md5sums-mismatch ${NIGHT}/1`,
      `md5sums-missing ${NIGHT}/2`,
      'md5sums-orphan 20180101/1',
    ]);
    expect(diffs.find((d) => d.kind === 'md5sums-mismatch')?.detail).toContain(`gives ${'0'.repeat(32)} for ztf_public_20180819.tar.gz`);
  });

  it('lists a closed night whose tarball is gone', async () => {
    rmSync(join(t.dataDir, tarballKey(NIGHT, 2)));
    const diffs = await verifyArchive(t.archive);
    expect(diffs).toEqual([expect.objectContaining({ night: NIGHT, programid: 2, kind: 'tarball-missing' })]);
  });

  it('says which night it does not know', async () => {
    await expect(verifyArchive(t.archive, { night: '20990101' })).rejects.toMatchObject({ code: 'INPUT_NOT_FOUND' });
  });
});

describe('verifyArchive checks what close wrote, byte for byte', () => {
  it('agrees with the MD5 of the file', async () => {
    const t = await tempArchive();
    try {
      await addAlerts(t.archive, (await realAlerts()).slice(0, 5), { night: NIGHT, programid: 1 });
      const report = await closeNight(t.archive, { night: NIGHT, programid: 1 });
      expect(createHash('md5').update(readFileSync(join(t.dataDir, report.key))).digest('hex')).toBe(report.md5);
      expect(await verifyArchive(t.archive)).toEqual([]);
    } finally {
      await t.cleanup();
    }
  });
});
