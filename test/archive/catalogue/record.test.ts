import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertRow, segmentKey } from '../../../src/archive/index.ts';
import { realAlerts, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';

const NIGHT = '20180819';

describe('catalogue.record', () => {
  let t: TempArchive;
  beforeEach(async () => {
    t = await tempArchive();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('counts a candid recorded twice as a duplicate, once', async () => {
    const [a] = await realAlerts();
    const key = segmentKey(NIGHT, 1, 'p0');
    const row = alertRow(a!.decoded, { night: NIGHT, programid: 1, segment: key, byteOffset: 0, byteLength: a!.bytes.length });
    expect(t.archive.catalogue.record({ alerts: [row], segments: [{ key, night: NIGHT, programid: 1, sizeBytes: a!.bytes.length }] })).toMatchObject({ inserted: 1 });
    expect(t.archive.catalogue.record({ alerts: [row], segments: [] })).toMatchObject({ inserted: 0 });
    expect(t.archive.catalogue.night(NIGHT, 1)).toMatchObject({ alerts: 1 });
  });

  it('a row missing a required value fails the whole batch instead of passing for a duplicate (alerts were lost that way)', async () => {
    const [a, b] = await realAlerts();
    const key = segmentKey(NIGHT, 1, 'p0');
    const good = alertRow(a!.decoded, { night: NIGHT, programid: 1, segment: key, byteOffset: 0, byteLength: a!.bytes.length });
    const broken = { ...alertRow(b!.decoded, { night: NIGHT, programid: 1, segment: key, byteOffset: a!.bytes.length, byteLength: b!.bytes.length }), jd: null as unknown as number };
    expect(() => t.archive.catalogue.record({ alerts: [good, broken], segments: [{ key, night: NIGHT, programid: 1, sizeBytes: 1 }] })).toThrow(/NOT NULL/);
    // Nothing of the batch was recorded: the ingest retries or stops; no alert is silently dropped.
    expect(t.archive.catalogue.alert(good.candid)).toBeUndefined();
  });
});
