import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNight } from '../../../src/archive/close/index.ts';
import type { CloseReport } from '../../../src/archive/close/index.ts';
import { md5sumsKey, tarballKey } from '../../../src/archive/index.ts';
import { addAlerts, fastavroCandids, realAlerts, renumbered, run, tempArchive } from '../../helpers/archive.ts';
import type { RealAlert, TempArchive } from '../../helpers/archive.ts';
import { pythonTarball } from '../../helpers/tarfile.ts';

const NIGHT = '20180819';

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

describe('closeNight on the real ZTF alerts', () => {
  let t: TempArchive;
  let alerts: RealAlert[];
  let report: CloseReport;
  let tarball: string;

  beforeAll(async () => {
    t = await tempArchive();
    alerts = await realAlerts();
    // Two segments, as two Kafka partitions would fill them; the tarball orders by candid across both.
    await addAlerts(t.archive, alerts.slice(0, 30), { night: NIGHT, programid: 1, source: 'ztf_20180819_programid1-0', kafkaTimestamp: Date.UTC(2018, 7, 19, 8) });
    await addAlerts(t.archive, alerts.slice(30), { night: NIGHT, programid: 1, source: 'ztf_20180819_programid1-1' });
    report = await closeNight(t.archive, { night: NIGHT, programid: 1 });
    tarball = join(t.dataDir, tarballKey(NIGHT, 1));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('reports what it wrote', () => {
    const bytes = readFileSync(tarball);
    expect(report).toMatchObject({ night: NIGHT, programid: 1, key: 'alerts/public/ztf_public_20180819.tar.gz', alerts: 42, skipped: false, closed: true, rebuilt: false });
    expect(report.bytes).toBe(bytes.length);
    expect(report.md5).toBe(md5(bytes));
    expect(report.alertBytes).toBe(alerts.reduce((s, a) => s + a.bytes.length, 0));
    expect(report.mbPerSec).toBeGreaterThan(0);
  });

  it('GNU tar lists exactly the <candid>.avro members, in candid order, as 0644 regular files', () => {
    const expected = alerts.map((a) => a.candid).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((c) => `${c}.avro`);
    expect(run('tar', ['-tzf', tarball]).trim().split('\n')).toEqual(expected);
    const long = run('tar', ['-tvzf', tarball]).trim().split('\n');
    expect(long.every((l) => l.startsWith('-rw-r--r-- '))).toBe(true);
    // Members of the first segment carry their Kafka timestamp, the others the time of their jd.
    expect(long.filter((l) => l.includes(' 2018-08-19 08:00 '))).toHaveLength(30);
  });

  it('md5sum -c accepts MD5SUMS in the tarball folder', () => {
    const folder = join(t.dataDir, 'alerts/public');
    expect(readFileSync(join(t.dataDir, md5sumsKey(1)), 'utf8')).toBe(`${report.md5}  ztf_public_20180819.tar.gz\n`);
    expect(run('md5sum', ['-c', 'MD5SUMS'], folder).trim()).toBe('ztf_public_20180819.tar.gz: OK');
  });

  it('Python tarfile and gzip read every member, with the bytes of its alert', () => {
    const py = pythonTarball(tarball);
    const bySha = new Map(alerts.map((a) => [createHash('sha256').update(a.bytes).digest('hex'), a]));
    expect(py.members).toHaveLength(42);
    for (const m of py.members) expect(`${bySha.get(m.sha256)?.candid}.avro`).toBe(m.name);
    expect(py.members.every((m) => m.file && m.mode === 0o644)).toBe(true);
  });

  it('holds each alert byte for byte, and Python fastavro reads every member', () => {
    const out = mkdtempSync(join(tmpdir(), 'zads-untar-'));
    try {
      run('tar', ['-xzf', tarball, '-C', out]);
      const files = readdirSync(out).sort();
      expect(files).toHaveLength(42);
      for (const a of alerts) expect(md5(readFileSync(join(out, `${a.candid}.avro`)))).toBe(md5(a.bytes));
      const candids = fastavroCandids(files.map((f) => join(out, f)));
      expect(candids.sort()).toEqual(files.map((f) => f.replace('.avro', '')).sort());
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('seals the night in the catalogue', () => {
    expect(t.archive.catalogue.night(NIGHT, 1)).toMatchObject({
      state: 'closed',
      tarballKey: 'alerts/public/ztf_public_20180819.tar.gz',
      tarballBytes: report.bytes,
      tarballMd5: report.md5,
      tarballAlerts: 42,
    });
  });

  it('leaves a closed night alone unless forced, and a forced rebuild gives the same bytes and cleans up', async () => {
    expect(await closeNight(t.archive, { night: NIGHT, programid: 1 })).toMatchObject({ skipped: true, md5: report.md5 });
    // What a close killed midway leaves behind is removed by the next close of the night.
    writeFileSync(`${tarball}.tmp-left-by-a-crash`, 'partial');
    const again = await closeNight(t.archive, { night: NIGHT, programid: 1, force: true });
    expect(again).toMatchObject({ skipped: false, rebuilt: true, md5: report.md5, alerts: 42 });
    expect(readdirSync(join(t.dataDir, 'alerts/public')).sort()).toEqual(['MD5SUMS', 'ztf_public_20180819.tar.gz']);
  });

  it('keeps one MD5SUMS line per tarball of the folder, sorted, and one MD5SUMS per folder', async () => {
    await addAlerts(t.archive, [...renumbered(alerts, 3, 700_000_000_000_000_000n)], { night: '20180818', programid: 1, source: 'p0' });
    await addAlerts(t.archive, [...renumbered(alerts, 2, 800_000_000_000_000_000n)], { night: NIGHT, programid: 2, source: 'p0' });
    const earlier = await closeNight(t.archive, { night: '20180818', programid: 1 });
    const partnership = await closeNight(t.archive, { night: NIGHT, programid: 2 });
    expect([earlier.alerts, partnership.alerts]).toEqual([3, 2]);
    expect(readFileSync(join(t.dataDir, md5sumsKey(1)), 'utf8')).toBe(
      `${earlier.md5}  ztf_public_20180818.tar.gz\n${report.md5}  ztf_public_20180819.tar.gz\n`,
    );
    expect(readFileSync(join(t.dataDir, md5sumsKey(2)), 'utf8')).toBe(`${partnership.md5}  ztf_partnership_20180819.tar.gz\n`);
    expect(run('md5sum', ['-c', 'MD5SUMS'], join(t.dataDir, 'alerts/public')).trim().split('\n')).toHaveLength(2);
    expect(run('md5sum', ['-c', 'MD5SUMS'], join(t.dataDir, 'alerts/partnership')).trim()).toBe('ztf_partnership_20180819.tar.gz: OK');
  });

  it('refuses an unknown night and a malformed one, saying which', async () => {
    await expect(closeNight(t.archive, { night: '20990101', programid: 1 })).rejects.toMatchObject({
      code: 'INPUT_NOT_FOUND',
      message: expect.stringContaining('night 20990101 programid 1 is not in the catalogue'),
    });
    await expect(closeNight(t.archive, { night: '2018-08-19', programid: 1 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
