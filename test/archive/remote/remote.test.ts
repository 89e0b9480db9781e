import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNight } from '../../../src/archive/close/index.ts';
import { md5sumsKey, readAll, tarballKey } from '../../../src/archive/index.ts';
import type { AlertRow } from '../../../src/archive/index.ts';
import { nightCatalogueKey, openNightReader, pruneLocal, uploadNight } from '../../../src/archive/remote/index.ts';
import { verifyArchive } from '../../../src/archive/verify/index.ts';
import { S3Config } from '../../helpers/s3.ts';
import { addAlerts, realAlerts, renumbered, run, tempArchive } from '../../helpers/archive.ts';
import type { RealAlert, TempArchive } from '../../helpers/archive.ts';

const PART = 5 * 1024 * 1024;
const OLD = '20180819';
const NEW = '20180820';

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

describe('S3 round trip with the local copy pruned (real S3Proxy)', () => {
  let t: TempArchive;
  let alerts: RealAlert[];
  let rows: AlertRow[];
  let tarballBefore: Buffer;
  const bucket = `zads-remote-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const s3 = S3Config(bucket, 'archive/');
    t = await tempArchive({ s3 });
    await t.archive.remote!.client.send(new CreateBucketCommand({ Bucket: bucket }));
    alerts = await realAlerts();
    rows = [
      ...(await addAlerts(t.archive, alerts.slice(0, 30), { night: OLD, programid: 1, source: 'p0' })),
      ...(await addAlerts(t.archive, alerts.slice(30), { night: OLD, programid: 1, source: 'p1' })),
    ];
    await addAlerts(t.archive, [...renumbered(alerts, 3, 700_000_000_000_000_000n)], { night: NEW, programid: 1, source: 'p0' });
    await closeNight(t.archive, { night: OLD, programid: 1 });
    await closeNight(t.archive, { night: NEW, programid: 1 });
    tarballBefore = readFileSync(join(t.dataDir, tarballKey(OLD, 1)));
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('never prunes a night that is not in S3', async () => {
    const report = await pruneLocal(t.archive, { keepLocalNights: 0 });
    expect(report.pruned).toEqual([]);
    expect(report.kept).toContainEqual({ night: OLD, programid: 1, reason: 'not uploaded to S3' });
    expect(statSync(join(t.dataDir, tarballKey(OLD, 1))).size).toBe(tarballBefore.length);
  });

  it('uploads tarball, MD5SUMS, segments and catalogue rows, checking sizes and ETags', async () => {
    const report = await uploadNight(t.archive, { night: OLD, programid: 1, partSizeBytes: PART });
    expect(report).toMatchObject({ complete: true, stored: 'local+s3' });
    expect(report.objects.map((o) => o.key).sort()).toEqual(
      [tarballKey(OLD, 1), md5sumsKey(1), nightCatalogueKey(OLD, 1), 'segments/20180819/programid1/p0.seg', 'segments/20180819/programid1/p1.seg'].sort(),
    );
    expect(report.objects.every((o) => !o.skipped && o.readBack === false)).toBe(true);
    const remote = t.archive.remote!;
    expect(md5(await readAll(await remote.get(tarballKey(OLD, 1))))).toBe(md5(tarballBefore));
    const lines = gunzipSync(await readAll(await remote.get(nightCatalogueKey(OLD, 1)))).toString('utf8').trim().split('\n');
    const header = JSON.parse(lines[0]!) as { format: string; night: { night: string; alerts: number }; segments: unknown[] };
    expect(header).toMatchObject({ format: 'zads-night-catalogue', night: { night: OLD, alerts: 42 } });
    expect(header.segments).toHaveLength(2);
    const candids = lines.slice(1).map((l) => (JSON.parse(l) as { candid: string }).candid);
    expect(candids).toEqual(rows.map((r) => r.candid).sort((a, b) => (a < b ? -1 : 1)).map(String));
    // A second upload sends the segments no more.
    const again = await uploadNight(t.archive, { night: OLD, programid: 1, partSizeBytes: PART });
    expect(again.objects.filter((o) => o.skipped).map((o) => o.key)).toEqual(['segments/20180819/programid1/p0.seg', 'segments/20180819/programid1/p1.seg']);
  });

  it('prunes the nights beyond the newest N, leaving placeholder segments', async () => {
    await uploadNight(t.archive, { night: NEW, programid: 1, partSizeBytes: PART });
    const report = await pruneLocal(t.archive, { keepLocalNights: 1 });
    expect(report.pruned.map((p) => p.night)).toEqual([OLD]);
    expect(report.pruned[0]!.freedBytes).toBeGreaterThan(tarballBefore.length);
    expect(t.archive.catalogue.night(OLD, 1)?.stored).toBe('s3');
    expect(t.archive.catalogue.night(NEW, 1)?.stored).toBe('local+s3');
    expect(await t.archive.local.head(tarballKey(OLD, 1))).toBeUndefined();
    const seg = statSync(join(t.dataDir, 'segments/20180819/programid1/p0.seg'));
    expect(seg.size).toBe(t.archive.catalogue.segment('segments/20180819/programid1/p0.seg')!.sizeBytes);
    expect(seg.blocks).toBe(0);
  });

  it('reads the pruned night back from S3: the tarball whole and by range, single alerts by range', async () => {
    const reader = await openNightReader(t.archive, { night: OLD, programid: 1 });
    try {
      expect(await reader.tarballInfo()).toMatchObject({ store: 's3', sizeBytes: tarballBefore.length });
      expect(md5(await readAll(await reader.tarball()))).toBe(md5(tarballBefore));
      const ranged = await readAll(await reader.tarball({ start: 100, end: 10_099 }));
      expect(md5(ranged)).toBe(md5(tarballBefore.subarray(100, 10_100)));
      for (const i of [0, 17, 41]) {
        const bytes = await reader.alertBytes(rows[i]!);
        expect(md5(bytes)).toBe(md5(alerts[i]!.bytes));
      }
    } finally {
      await reader.close();
    }
    // Verify reads the pruned night from S3 (tarball members against the segments there) and finds it whole.
    expect(await verifyArchive(t.archive)).toEqual([]);
  });

  it('closes a pruned night again when a late alert reopens it, and uploads and prunes it again', async () => {
    const late = (await realAlerts())[0]!;
    const [renamed] = [...renumbered([late], 1, 595_999_999_915_010_000n)];
    const [lateRow] = await addAlerts(t.archive, [renamed!], { night: OLD, programid: 1, source: 'p1' });
    expect(t.archive.catalogue.night(OLD, 1)).toMatchObject({ state: 'open', stored: 's3' });
    const closed = await closeNight(t.archive, { night: OLD, programid: 1 });
    expect(closed).toMatchObject({ alerts: 43, closed: true });
    expect(run('tar', ['-tzf', join(t.dataDir, tarballKey(OLD, 1))]).trim().split('\n')).toContain(`${renamed!.candid}.avro`);
    // The S3 copy is stale now: not prunable until uploaded again.
    expect((await pruneLocal(t.archive, { keepLocalNights: 1 })).kept.find((k) => k.night === OLD)?.reason).toMatch(/S3 holds/);
    const up = await uploadNight(t.archive, { night: OLD, programid: 1, partSizeBytes: PART });
    expect(up).toMatchObject({ complete: true, stored: 's3' });
    expect((await pruneLocal(t.archive, { keepLocalNights: 1 })).pruned.map((p) => p.night)).toEqual([OLD]);
    const reader = await openNightReader(t.archive, { night: OLD, programid: 1 });
    try {
      expect(md5(await reader.alertBytes(lateRow!))).toBe(md5(renamed!.bytes));
      expect(md5(await reader.alertBytes(rows[35]!))).toBe(md5(alerts[35]!.bytes));
      expect((await reader.tarballInfo())?.sizeBytes).toBe(closed.bytes);
    } finally {
      await reader.close();
    }
    expect(await verifyArchive(t.archive, { night: OLD })).toEqual([]);
  });
});

describe('multipart uploads', () => {
  it('checks a multipart ETag from the part size, and reads back when the part size is not the store’s', async () => {
    const bucket = `zads-multipart-${randomUUID().slice(0, 8)}`;
    const t = await tempArchive({ s3: S3Config(bucket) });
    try {
      await t.archive.remote!.client.send(new CreateBucketCommand({ Bucket: bucket }));
      const many = [...renumbered(await realAlerts(), 300, 900_000_000_000_000_000n)];
      await addAlerts(t.archive, many, { night: OLD, programid: 2 });
      const closed = await closeNight(t.archive, { night: OLD, programid: 2 });
      expect(closed.bytes).toBeGreaterThan(2 * PART);
      const right = await uploadNight(t.archive, { night: OLD, programid: 2, partSizeBytes: PART });
      const tarball = right.objects.find((o) => o.key === tarballKey(OLD, 2))!;
      expect(tarball).toMatchObject({ readBack: false, md5: closed.md5 });
      expect(tarball.etag).toMatch(/^[0-9a-f]{32}-3$/);
      const wrong = await uploadNight(t.archive, { night: OLD, programid: 2, partSizeBytes: 6 * 1024 * 1024 });
      expect(wrong.objects.find((o) => o.key === tarballKey(OLD, 2))).toMatchObject({ readBack: true, md5: closed.md5 });
    } finally {
      await t.cleanup();
    }
  });
});
