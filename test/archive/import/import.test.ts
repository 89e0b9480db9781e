import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { readContainer } from '../../../src/alert/index.ts';
import { importTarballs, md5sumsKey, openArchive, readAll, segmentKey, tarballKey } from '../../../src/archive/index.ts';
import { setMd5sumsEntry } from '../../../src/archive/index.ts';
import type { Archive } from '../../../src/archive/index.ts';
import { BROKEN_FILE, SAMPLE_TARBALL, TRAILING_GARBAGE_FILE, V33_FILE, goodAlertFiles } from '../../helpers/data.ts';
import { membersOf, sha256, writeTarball } from './tarballs.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zads-import-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function writer(dataDir: string): Promise<Archive> {
  const archive = await openArchive({ dataDir, writer: true });
  cleanups.push(() => archive.close());
  return archive;
}

const SAMPLE_SEGMENT = segmentKey('20180819', 1, `import-${basename(SAMPLE_TARBALL)}`);

/** The good single-alert files (the trailing-garbage one is damaged after its first alert). */
function goodFiles(): string[] {
  return goodAlertFiles()
    .map((f) => f.path)
    .filter((p) => p !== TRAILING_GARBAGE_FILE);
}

describe('import of UW night tarballs', () => {
  it('indexes the 30 alerts of the real sample night with the night and programid of its name, pointing at byte-identical copies of its members', async () => {
    const archive = await writer(join(tempDir(), 'data'));
    const report = await importTarballs(archive, [SAMPLE_TARBALL]);
    expect(report).toMatchObject({ files: 1, failed: 0, alerts: 30, inserted: 30, duplicates: 0, quarantined: 0 });
    const [file] = report.perFile;
    expect(file).toMatchObject({ kind: 'tarball', night: '20180819', programid: 1, segment: SAMPLE_SEGMENT, closed: false });
    expect(file!.notes.join(' ')).toMatch(/not the night's canonical name ztf_public_20180819\.tar\.gz: the night stays open/);

    const members = await membersOf(SAMPLE_TARBALL);
    const rows = [...archive.catalogue.alertsOfNight('20180819', 1)];
    expect(rows.map((r) => `${r.candid}.avro`).sort()).toEqual(members.map((m) => m.name).sort());
    for (const m of members) {
      const [decoded] = readContainer(m.bytes);
      const row = archive.catalogue.alert(decoded!.alert.candid)!;
      expect(row).toMatchObject({ night: '20180819', programid: 1, objectId: decoded!.alert.objectId, segment: SAMPLE_SEGMENT, topic: null });
      expect(row.byteLength).toBe(m.bytes.length);
      expect(sha256(await archive.segments.read(row.segment, row.byteOffset, row.byteLength))).toBe(sha256(m.bytes));
    }
    const bytes = members.reduce((n, m) => n + m.bytes.length, 0);
    expect(report.bytes).toBe(bytes);
    expect(archive.catalogue.segment(SAMPLE_SEGMENT)?.sizeBytes).toBe(bytes);
    expect(archive.catalogue.night('20180819', 1)).toMatchObject({ state: 'open', alerts: 30, bytes });
  });

  it('records nothing twice on re-import: 30 duplicates, and the segment does not grow', async () => {
    const dataDir = join(tempDir(), 'data');
    const archive = await writer(dataDir);
    await importTarballs(archive, [SAMPLE_TARBALL]);
    const size = statSync(join(dataDir, SAMPLE_SEGMENT)).size;
    const again = await importTarballs(archive, [SAMPLE_TARBALL]);
    expect(again).toMatchObject({ alerts: 30, inserted: 0, duplicates: 30, quarantined: 0, failed: 0 });
    expect(again.perFile[0]!.appendedBytes).toBe(0);
    expect(statSync(join(dataDir, SAMPLE_SEGMENT)).size).toBe(size);
    expect(archive.catalogue.segment(SAMPLE_SEGMENT)?.sizeBytes).toBe(size);
    expect(archive.catalogue.countNight('20180819', 1).alerts).toBe(30);
  });

  it('quarantines the members that do not decode, byte for byte with their reason, and imports the others', async () => {
    const dir = tempDir();
    const tarball = join(dir, 'ztf_public_20180601.tar.gz');
    const good = goodFiles();
    const members = [...good, BROKEN_FILE, TRAILING_GARBAGE_FILE].map((p) => ({ name: basename(p), bytes: readFileSync(p) }));
    await writeTarball(tarball, members);
    const archive = await writer(join(dir, 'data'));
    const report = await importTarballs(archive, [tarball]);

    // Two shared files hold the same alert in two schema versions: the second is a duplicate.
    const candids = new Set(good.map((p) => readContainer(readFileSync(p))[0]!.alert.candid));
    expect(report).toMatchObject({ failed: 0, alerts: good.length, inserted: candids.size, duplicates: good.length - candids.size, quarantined: 2 });
    expect(report.perFile[0]!.notes.join(' ')).toMatch(/2 member\(s\) did not decode/);
    for (const candid of candids) expect(archive.catalogue.alert(candid)?.night).toBe('20180601');

    const quarantined = archive.catalogue.quarantined();
    expect(quarantined.map((q) => q.source).sort()).toEqual([
      `ztf_public_20180601.tar.gz:${basename(BROKEN_FILE)}`,
      `ztf_public_20180601.tar.gz:${basename(TRAILING_GARBAGE_FILE)}`,
    ]);
    for (const q of quarantined) {
      const original = readFileSync(q.source!.endsWith(basename(BROKEN_FILE)) ? BROKEN_FILE : TRAILING_GARBAGE_FILE);
      expect(q.key).toMatch(/^quarantine\/import\/ztf_public_20180601\.tar\.gz\//);
      expect(q).toMatchObject({ topic: null, byteLength: original.length });
      expect(q.code).toMatch(/^ALERT_/);
      expect(sha256(await readAll(await archive.local.get(q.key)))).toBe(sha256(original));
    }
    const broken = quarantined.find((q) => q.source!.endsWith(basename(BROKEN_FILE)))!;
    expect(broken.reason).toMatch(/does not decode|does not end with the file's sync marker|bytes more than/);
    const trailing = quarantined.find((q) => q.source!.endsWith(basename(TRAILING_GARBAGE_FILE)))!;
    expect(trailing.reason).toMatch(/after 1 alert\(s\) that decoded/);

    // A damaged night keeps its damage visible, so the downloaded tarball is still the night's own.
    expect(report.perFile[0]!.closed).toBe(true);

    const again = await importTarballs(archive, [tarball]);
    expect(again).toMatchObject({ inserted: 0, duplicates: good.length, quarantined: 2 });
    expect(archive.catalogue.quarantined()).toHaveLength(2);
  });

  it('closes a night imported from its canonically named tarball: the tarball in place, a line md5sum -c accepts, the night closed with its MD5', async () => {
    const dir = tempDir();
    const downloads = join(dir, 'downloads');
    mkdirSync(downloads);
    const tarball = join(downloads, 'ztf_public_20180819.tar.gz');
    copyFileSync(SAMPLE_TARBALL, tarball);
    const dataDir = join(dir, 'data');
    const archive = await writer(dataDir);
    const report = await importTarballs(archive, [tarball]);

    const md5 = createHash('md5').update(readFileSync(tarball)).digest('hex');
    const size = statSync(tarball).size;
    expect(report.perFile[0]).toMatchObject({ closed: true, tarball: { key: tarballKey('20180819', 1), md5, sizeBytes: size }, notes: [] });
    expect(sha256(readFileSync(join(dataDir, tarballKey('20180819', 1))))).toBe(sha256(readFileSync(tarball)));
    expect(archive.catalogue.night('20180819', 1)).toMatchObject({
      state: 'closed',
      alerts: 30,
      tarballKey: tarballKey('20180819', 1),
      tarballMd5: md5,
      tarballBytes: size,
      tarballAlerts: 30,
    });
    const sums = readFileSync(join(dataDir, md5sumsKey(1)), 'utf8');
    expect(sums).toBe(`${md5}  ztf_public_20180819.tar.gz\n`);
    const check = spawnSync('md5sum', ['-c', 'MD5SUMS'], { cwd: join(dataDir, 'alerts/public'), encoding: 'utf8' });
    expect(check.stdout).toContain('ztf_public_20180819.tar.gz: OK');
    expect(check.status).toBe(0);

    // Importing it again changes nothing: still closed with the same tarball and the same line.
    const again = await importTarballs(archive, [tarball]);
    expect(again.perFile[0]).toMatchObject({ closed: true, duplicates: 30, inserted: 0 });
    expect(archive.catalogue.night('20180819', 1)).toMatchObject({ state: 'closed', reopened: 0, tarballMd5: md5 });
    expect(readFileSync(join(dataDir, md5sumsKey(1)), 'utf8')).toBe(sums);
  });

  it('closes a night whose alerts an earlier import already holds, without copying their bytes again', async () => {
    const dir = tempDir();
    const tarball = join(dir, 'ztf_public_20180819.tar.gz');
    copyFileSync(SAMPLE_TARBALL, tarball);
    const dataDir = join(dir, 'data');
    const archive = await writer(dataDir);
    await importTarballs(archive, [SAMPLE_TARBALL]);
    const report = await importTarballs(archive, [tarball]);
    expect(report.perFile[0]).toMatchObject({ inserted: 0, duplicates: 30, appendedBytes: 0, closed: true });
    expect(archive.catalogue.night('20180819', 1)).toMatchObject({ state: 'closed', tarballAlerts: 30 });
    expect(archive.catalogue.segment(segmentKey('20180819', 1, 'import-ztf_public_20180819.tar.gz'))).toBeUndefined();
    for (const row of archive.catalogue.alertsOfNight('20180819', 1)) expect(row.segment).toBe(SAMPLE_SEGMENT);
  });

  it('stores a candid repeated inside one tarball once, also while the batch holding it is still being written', async () => {
    const dir = tempDir();
    const [a, b] = (await membersOf(SAMPLE_TARBALL)).slice(0, 2);
    const tarball = join(dir, 'ztf_public_20180819.tar.gz');
    await writeTarball(tarball, [a!, { name: `again-${a!.name}`, bytes: a!.bytes }, b!, a!]);
    const dataDir = join(dir, 'data');
    const archive = await writer(dataDir);
    // One member a batch: the repeat is read while the batch of the first copy is in flight.
    const report = await importTarballs(archive, [tarball], { batchMembers: 1 });
    expect(report.perFile[0]).toMatchObject({ alerts: 4, inserted: 2, duplicates: 2, closed: true, appendedBytes: a!.bytes.length + b!.bytes.length });
    expect(statSync(join(dataDir, report.perFile[0]!.segment!)).size).toBe(a!.bytes.length + b!.bytes.length);
    expect(archive.catalogue.night('20180819', 1)).toMatchObject({ state: 'closed', alerts: 2, tarballAlerts: 4 });
  });

  it('leaves a canonically named night open when the night holds alerts its tarball lacks', async () => {
    const dir = tempDir();
    const tarball = join(dir, 'ztf_public_20180819.tar.gz');
    copyFileSync(SAMPLE_TARBALL, tarball);
    const archive = await writer(join(dir, 'data'));
    const loose = await importTarballs(archive, [V33_FILE], { night: '20180819', programid: 1 });
    expect(loose).toMatchObject({ inserted: 1, failed: 0 });
    expect(loose.perFile[0]).toMatchObject({ kind: 'alerts', segment: segmentKey('20180819', 1, 'import-files') });
    const report = await importTarballs(archive, [tarball]);
    expect(report.perFile[0]).toMatchObject({ inserted: 30, closed: false });
    expect(report.perFile[0]!.notes.join(' ')).toMatch(/holds 1 alert\(s\) that are not in ztf_public_20180819\.tar\.gz/);
    expect(archive.catalogue.night('20180819', 1)?.state).toBe('open');
    expect(await archive.local.head(tarballKey('20180819', 1))).toBeUndefined();
  });

  it('keeps the members before the damage of a truncated tarball, reports ARCHIVE_CORRUPT and leaves the night open', async () => {
    const dir = tempDir();
    const cut = join(dir, 'ztf_public_20180819.tar.gz');
    const tar = gunzipSync(readFileSync(SAMPLE_TARBALL));
    writeFileSync(cut, gzipSync(tar.subarray(0, Math.floor(tar.length / 2))));
    const archive = await writer(join(dir, 'data'));
    const report = await importTarballs(archive, [cut, SAMPLE_TARBALL]);
    const [damaged, whole] = report.perFile;
    expect(report.failed).toBe(1);
    expect(damaged!.error).toMatchObject({ code: 'ARCHIVE_CORRUPT', context: { file: cut } });
    expect(damaged!.alerts).toBeGreaterThan(5);
    expect(damaged!.alerts).toBeLessThan(30);
    expect(damaged!.closed).toBe(false);
    expect(archive.catalogue.segment(damaged!.segment!)?.sizeBytes).toBe(damaged!.bytes);
    // The other file still imports; its members already recorded are duplicates.
    expect(whole).toMatchObject({ alerts: 30, inserted: 30 - damaged!.alerts, duplicates: damaged!.alerts });
    expect(archive.catalogue.countNight('20180819', 1).alerts).toBe(30);
  });

  it('is restartable: bytes appended but never recorded are cut on the next open, and the import runs again cleanly', async () => {
    const dataDir = join(tempDir(), 'data');
    const members = await membersOf(SAMPLE_TARBALL);
    const first = await openArchive({ dataDir, writer: true });
    // What a crash after the segment sync and before the catalogue transaction leaves behind.
    await first.segments.append(SAMPLE_SEGMENT, members.slice(0, 12).map((m) => m.bytes));
    await first.segments.sync();
    await first.close();
    expect(statSync(join(dataDir, SAMPLE_SEGMENT)).size).toBeGreaterThan(0);

    const archive = await writer(dataDir);
    const report = await importTarballs(archive, [SAMPLE_TARBALL], { batchMembers: 7 });
    expect(report).toMatchObject({ alerts: 30, inserted: 30, duplicates: 0 });
    const bytes = members.reduce((n, m) => n + m.bytes.length, 0);
    expect(statSync(join(dataDir, SAMPLE_SEGMENT)).size).toBe(bytes);
    for (const m of members) {
      const row = archive.catalogue.alert(readContainer(m.bytes)[0]!.alert.candid)!;
      expect(sha256(await archive.segments.read(row.segment, row.byteOffset, row.byteLength))).toBe(sha256(m.bytes));
    }
  });

  it('says which names it understands for a tarball it cannot place, and imports it into an explicit night', async () => {
    const dir = tempDir();
    const odd = join(dir, 'night-of-2018-08-19.tar.gz');
    copyFileSync(SAMPLE_TARBALL, odd);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not an alert\n');
    const archive = await writer(join(dir, 'data'));
    const report = await importTarballs(archive, [odd, text, join(dir, 'missing.tar.gz')]);
    expect(report).toMatchObject({ files: 3, failed: 3, alerts: 0 });
    const [name, notTar, missing] = report.perFile.map((f) => f.error);
    expect(name).toMatchObject({ code: 'INPUT_UNSUPPORTED', context: { file: odd } });
    expect(name!.message).toMatch(/cannot tell the night of .*night-of-2018-08-19\.tar\.gz.*ztf_public_YYYYMMDD\.tar\.gz.*--night YYYYMMDD --program N/);
    expect(notTar).toMatchObject({ code: 'INPUT_UNSUPPORTED' });
    expect(notTar!.message).toMatch(/notes\.txt is neither a gzipped UW night tarball/);
    expect(missing).toMatchObject({ code: 'INPUT_NOT_FOUND' });
    expect(missing!.message).toMatch(/missing\.tar\.gz: no such file/);

    const placed = await importTarballs(archive, [odd], { night: '20180820', programid: 2 });
    expect(placed.perFile[0]).toMatchObject({ night: '20180820', programid: 2, inserted: 30, closed: false });
    expect(archive.catalogue.countNight('20180820', 2).alerts).toBe(30);
  });

  it('imports a folder of plain alert files into an explicit night, quarantining the broken one', async () => {
    const dir = tempDir();
    const folder = join(dir, 'alerts');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    for (const p of goodFiles().slice(0, 4)) copyFileSync(p, join(folder, basename(p)));
    copyFileSync(BROKEN_FILE, join(folder, 'sub', basename(BROKEN_FILE)));
    const archive = await writer(join(dir, 'data'));
    await expect(importTarballs(archive, [folder])).resolves.toMatchObject({ failed: 1 });
    const report = await importTarballs(archive, [folder], { night: '20180601', programid: 1 });
    expect(report).toMatchObject({ failed: 0, alerts: 4, inserted: 4, quarantined: 1 });
    expect(report.perFile[0]).toMatchObject({ kind: 'alerts', segment: segmentKey('20180601', 1, 'import-alerts') });
    expect(archive.catalogue.quarantined()[0]).toMatchObject({ source: join(folder, 'sub', basename(BROKEN_FILE)), key: `quarantine/import/alerts/sub_${basename(BROKEN_FILE)}` });
  });

  it('rejects a night without a programid, and a night that is not a date', async () => {
    const archive = await writer(join(tempDir(), 'data'));
    await expect(importTarballs(archive, [SAMPLE_TARBALL], { night: '20180819' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { option: 'programid' } });
    await expect(importTarballs(archive, [SAMPLE_TARBALL], { night: '20181332', programid: 1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { option: 'night' } });
  });
});

describe('MD5SUMS lines', () => {
  it('adds or replaces one line, keeps the others, drops malformed ones, and sorts them by name as md5sum lists them', async () => {
    const archive = await writer(join(tempDir(), 'data'));
    const key = md5sumsKey(1);
    await archive.local.put(key, Buffer.from(`${'b'.repeat(32)}  ztf_public_20180820.tar.gz\n${'a'.repeat(32)} *ztf_public_20180818.tar.gz\nnot a line\n`));
    await setMd5sumsEntry(archive.local, key, { name: 'ztf_public_20180819.tar.gz', md5: 'c'.repeat(32) });
    await setMd5sumsEntry(archive.local, key, { name: 'ztf_public_20180820.tar.gz', md5: 'd'.repeat(32) });
    expect((await readAll(await archive.local.get(key))).toString()).toBe(
      `${'a'.repeat(32)}  ztf_public_20180818.tar.gz\n${'c'.repeat(32)}  ztf_public_20180819.tar.gz\n${'d'.repeat(32)}  ztf_public_20180820.tar.gz\n`,
    );
  });
});
