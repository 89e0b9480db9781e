import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeNight } from '../../../src/archive/close/index.ts';
import { alertRow, md5sumsKey, segmentKey, tarballKey } from '../../../src/archive/index.ts';
import { addAlerts, realAlerts, run, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';

const NIGHT = '20180819';

describe('late alerts reopen a closed night', () => {
  let t: TempArchive;
  beforeEach(async () => {
    t = await tempArchive();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('rebuilds the tarball with the late alert and updates MD5SUMS', async () => {
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 20), { night: NIGHT, programid: 1, source: 'p0' });
    const first = await closeNight(t.archive, { night: NIGHT, programid: 1 });
    expect(first.alerts).toBe(20);

    const late = alerts[35]!;
    await addAlerts(t.archive, [late], { night: NIGHT, programid: 1, source: 'p1' });
    expect(t.archive.catalogue.night(NIGHT, 1)).toMatchObject({ state: 'open', reopened: 1 });

    const second = await closeNight(t.archive, { night: NIGHT, programid: 1 });
    expect(second).toMatchObject({ alerts: 21, rebuilt: true, closed: true, skipped: false });
    expect(second.md5).not.toBe(first.md5);
    const tarball = join(t.dataDir, tarballKey(NIGHT, 1));
    expect(run('tar', ['-tzf', tarball]).trim().split('\n')).toContain(`${late.candid}.avro`);
    expect(run('tar', ['-xzOf', tarball, `${late.candid}.avro`]).length).toBeGreaterThan(0);
    expect(readFileSync(join(t.dataDir, md5sumsKey(1)), 'utf8')).toBe(`${second.md5}  ztf_public_20180819.tar.gz\n`);
    expect(run('md5sum', ['-c', 'MD5SUMS'], join(t.dataDir, 'alerts/public')).trim()).toBe('ztf_public_20180819.tar.gz: OK');
    expect(t.archive.catalogue.night(NIGHT, 1)).toMatchObject({ state: 'closed', tarballAlerts: 21, tarballMd5: second.md5 });
  });

  it('builds again when alerts are recorded while the night is being closed (ingest in the same process)', async () => {
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 10), { night: NIGHT, programid: 1, source: 'p0' });
    // The late alert's bytes are durable already; its row is recorded in the middle of the first attempt,
    // on the archive's own catalogue connection, as an ingest batch would be.
    const late = alerts[12]!;
    const key = segmentKey(NIGHT, 1, 'p1');
    const { offsets, sizeBytes } = await t.archive.segments.append(key, [late.bytes]);
    await t.archive.segments.sync();
    let recorded = false;
    const report = await closeNight(t.archive, {
      night: NIGHT,
      programid: 1,
      onProgress: (p) => {
        if (recorded || p.alerts !== 5) return;
        recorded = true;
        t.archive.catalogue.record({
          alerts: [alertRow(late.decoded, { night: NIGHT, programid: 1, segment: key, byteOffset: offsets[0]!, byteLength: late.bytes.length })],
          segments: [{ key, night: NIGHT, programid: 1, sizeBytes }],
        });
      },
    });
    expect(recorded).toBe(true);
    expect(report).toMatchObject({ attempts: 2, alerts: 11, closed: true });
    expect(run('tar', ['-tzf', join(t.dataDir, tarballKey(NIGHT, 1))]).trim().split('\n')).toHaveLength(11);
    expect(t.archive.catalogue.night(NIGHT, 1)).toMatchObject({ state: 'closed', tarballAlerts: 11 });
  });
});

describe('an empty night', () => {
  it('gets an empty tarball that GNU tar accepts, listed in MD5SUMS', async () => {
    const t = await tempArchive();
    try {
      await addAlerts(t.archive, [], { night: '20180820', programid: 1 });
      const report = await closeNight(t.archive, { night: '20180820', programid: 1 });
      expect(report).toMatchObject({ alerts: 0, alertBytes: 0, closed: true });
      const tarball = join(t.dataDir, tarballKey('20180820', 1));
      // A gzip of the two zero blocks that end a tar: 29 bytes here (the UW archive's own are 44).
      expect(readFileSync(tarball).length).toBe(report.bytes);
      expect(report.bytes).toBeLessThan(64);
      expect(run('tar', ['-tzf', tarball])).toBe('');
      expect(run('md5sum', ['-c', 'MD5SUMS'], join(t.dataDir, 'alerts/public')).trim()).toBe('ztf_public_20180820.tar.gz: OK');
      expect(t.archive.catalogue.night('20180820', 1)).toMatchObject({ state: 'closed', tarballAlerts: 0 });
    } finally {
      await t.cleanup();
    }
  });
});
