import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readContainer, shippedSchema, writeContainer } from '../../src/alert/index.ts';
import type { ZtfAlert, ZtfPrvCandidate } from '../../src/alert/index.ts';
import { fromSimulation, isSkipped, simulateNight, syncMarker } from '../../src/produce/index.ts';
import { seedFrom } from '../../src/produce/rng.ts';

const NIGHT = '20240101';
const NIGHT_JD = 2460310.5; // 2024-01-01 00:00 UTC
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function firstMessages(seed: number | string, n: number, night = NIGHT): Buffer[] {
  const out: Buffer[] = [];
  for (const item of fromSimulation({ night, count: n, seed })) {
    if (isSkipped(item)) throw item.skipped;
    out.push(item.value);
    if (out.length === n) break;
  }
  return out;
}

describe('simulateNight: determinism', () => {
  it('gives byte-identical messages for the same seed, and different ones for another seed', () => {
    const a = firstMessages(1, 300).map(sha);
    const b = firstMessages(1, 300).map(sha);
    const c = firstMessages(2, 300).map(sha);
    expect(b).toEqual(a);
    expect(c.filter((h, i) => h === a[i])).toHaveLength(0);
  });

  it('derives the container sync marker from seed and candid', () => {
    const [alert] = simulateNight({ night: NIGHT, count: 1, seed: 9 });
    const bytes = firstMessages(9, 1)[0]!;
    const expected = writeContainer([alert!], shippedSchema('4.02'), { sync: syncMarker(seedFrom(9), alert!.candid) });
    expect(bytes.equals(expected)).toBe(true);
    expect(bytes.subarray(bytes.length - 16).equals(syncMarker(seedFrom(9), alert!.candid))).toBe(true);
  });
});

describe('simulateNight: a night of 20,000 alerts', () => {
  it('has unique candids, recurring objectIds, and jd in ~40 s exposure bursts inside the UTC night', () => {
    const candids = new Set<bigint>();
    const perObject = new Map<string, number>();
    const bursts: { jd: number; size: number }[] = [];
    let lastJd = -Infinity;
    for (const alert of simulateNight({ night: NIGHT, count: 20_000, seed: 'night-test' })) {
      candids.add(alert.candid);
      expect(alert.candidate.candid).toBe(alert.candid);
      perObject.set(alert.objectId, (perObject.get(alert.objectId) ?? 0) + 1);
      const jd = alert.candidate.jd;
      expect(jd).toBeGreaterThanOrEqual(lastJd);
      if (jd !== lastJd) bursts.push({ jd, size: 0 });
      bursts[bursts.length - 1]!.size++;
      lastJd = jd;
    }
    expect(candids.size).toBe(20_000);
    // Objects recur: most alerts belong to an object seen more than once tonight.
    const repeated = [...perObject.values()].filter((n) => n > 1).reduce((a, b) => a + b, 0);
    expect(perObject.size).toBeLessThan(20_000);
    expect(repeated / 20_000).toBeGreaterThan(0.5);
    for (const id of perObject.keys()) expect(id).toMatch(/^ZTF\d{2}[a-z]{7}$/);
    // Bursts of hundreds of alerts, one exposure start about every 40 s, all between 03:00 and 13:00 UTC.
    expect(bursts.length).toBeGreaterThan(20);
    for (const b of bursts) expect(b.size).toBeGreaterThanOrEqual(100);
    for (let i = 1; i < bursts.length; i++) {
      const gapSeconds = (bursts[i]!.jd - bursts[i - 1]!.jd) * 86_400;
      expect(gapSeconds).toBeGreaterThanOrEqual(37.9);
      expect(gapSeconds).toBeLessThanOrEqual(42.1);
    }
    expect(bursts[0]!.jd).toBeGreaterThanOrEqual(NIGHT_JD + 3 / 24);
    expect(bursts[bursts.length - 1]!.jd).toBeLessThan(NIGHT_JD + 13 / 24);
  }, 120_000);

  it('meets the same objects on another night of the same seed', () => {
    const ids = (night: string) => new Set([...simulateNight({ night, count: 2000, seed: 5 })].map((a) => a.objectId));
    const first = ids('20240101');
    const next = [...ids('20240102')];
    expect(next.filter((id) => first.has(id)).length).toBeGreaterThan(100);
  });
});

describe('simulateNight: alert contents', () => {
  const alerts: ZtfAlert[] = [...simulateNight({ night: NIGHT, count: 2000, seed: 3, programid: 2 })];

  it('validates against our 4.02 schema and round-trips through a container file', () => {
    const schema = shippedSchema('4.02');
    for (const alert of alerts.slice(0, 300)) {
      expect(schema.type.isValid(alert)).toBe(true);
      const [decoded] = readContainer(writeContainer([alert], schema));
      expect(decoded!.schema.version).toBe('4.02');
      expect(decoded!.alert.candid).toBe(alert.candid);
      expect(schema.type.toBuffer(decoded!.alert).equals(schema.type.toBuffer(alert))).toBe(true);
    }
  });

  it('validates against our 3.3 schema (no fp_hists)', () => {
    const schema = shippedSchema('3.3');
    const old = [...simulateNight({ night: NIGHT, count: 300, seed: 3, schemaVersion: '3.3' })];
    for (const alert of old) {
      expect(alert).not.toHaveProperty('fp_hists');
      expect(alert.schemavsn).toBe('3.3');
      const [decoded] = readContainer(writeContainer([alert], schema));
      expect(decoded!.schema.version).toBe('3.3');
      expect(decoded!.alert.objectId).toBe(alert.objectId);
    }
  });

  it('sets every candidate field within ZTF-like ranges', () => {
    const fields = (shippedSchema('4.02').type as unknown as { fields: { name: string }[] }).fields.map((f) => f.name);
    for (const a of alerts) {
      expect(Object.keys(a)).toEqual(fields);
      const c = a.candidate;
      expect(c.programid).toBe(2);
      expect(c.magpsf).toBeGreaterThanOrEqual(13);
      expect(c.magpsf).toBeLessThanOrEqual(21.5);
      expect(c.sigmapsf).toBeGreaterThanOrEqual(0.0099);
      expect(c.sigmapsf).toBeLessThanOrEqual(0.3001);
      expect([1, 2, 3]).toContain(c.fid);
      expect(['t', 'f']).toContain(c.isdiffpos);
      expect(c.rb).toBeGreaterThanOrEqual(0);
      expect(c.rb).toBeLessThanOrEqual(1);
      expect(c.fwhm as number).toBeGreaterThanOrEqual(1.5);
      expect(c.fwhm as number).toBeLessThanOrEqual(5);
      expect(c.elong as number).toBeGreaterThanOrEqual(1);
      expect(c.elong as number).toBeLessThanOrEqual(1.5);
      expect(c.rcid as number).toBeGreaterThanOrEqual(0);
      expect(c.rcid as number).toBeLessThan(64);
      expect(c.candid / 1_000_000n).toBe(c.pid);
      expect(c.pid % 10_000n / 100n).toBe(BigInt(c.rcid as number));
      expect(c.ra).toBeGreaterThanOrEqual(0);
      expect(c.ra).toBeLessThan(360);
      expect(Math.abs(c.dec)).toBeLessThanOrEqual(90);
      expect(c.jdstarthist as number).toBeLessThanOrEqual(c.jd);
      expect(c.ndethist as number).toBeGreaterThanOrEqual(1);
      expect(c.ncovhist as number).toBeGreaterThanOrEqual(c.ndethist as number);
    }
    const rbs = alerts.map((a) => a.candidate.rb as number).sort((x, y) => x - y);
    expect(rbs[Math.floor(rbs.length / 2)]).toBeGreaterThan(0.6); // skewed high: most candidates are real
    const nbadZero = alerts.filter((a) => a.candidate.nbad === 0).length;
    expect(nbadZero / alerts.length).toBeGreaterThan(0.8);
    expect(new Set(alerts.map((a) => a.candidate.isdiffpos)).size).toBe(2);
    const ss = alerts.filter((a) => a.candidate.ssdistnr !== -999);
    expect(ss.length).toBeGreaterThan(0);
    expect(ss.length / alerts.length).toBeLessThan(0.1);
  });

  it('keeps an object in one field and readout channel, at a fixed position', () => {
    const seen = new Map<string, { field: unknown; rcid: unknown; ra: number; dec: number }>();
    for (const a of alerts) {
      const c = a.candidate;
      const first = seen.get(a.objectId);
      if (!first) {
        seen.set(a.objectId, { field: c.field, rcid: c.rcid, ra: c.ra, dec: c.dec });
        continue;
      }
      expect(c.field).toBe(first.field);
      expect(c.rcid).toBe(first.rcid);
      expect(Math.abs(c.dec - first.dec) * 3600).toBeLessThan(1.5);
    }
  });

  it('lists earlier detections of the object in prv_candidates, with upper limits, within 30 days', () => {
    const sent = new Map<bigint, ZtfAlert>(alerts.map((a) => [a.candid, a]));
    let quotedTonight = 0;
    let limits = 0;
    for (const a of alerts) {
      const prv: ZtfPrvCandidate[] = a.prv_candidates ?? [];
      let previous = -Infinity;
      for (const p of prv) {
        expect(p.jd).toBeLessThan(a.candidate.jd);
        expect(p.jd).toBeGreaterThanOrEqual(a.candidate.jd - 30);
        expect(p.jd).toBeGreaterThanOrEqual(previous);
        previous = p.jd;
        if (p.candid === null) {
          limits++;
          expect(p.magpsf).toBeNull();
          expect(p.diffmaglim).not.toBeNull();
          continue;
        }
        const earlier = sent.get(p.candid);
        if (earlier) {
          // A detection sent earlier tonight is quoted with the values it was sent with.
          quotedTonight++;
          expect(earlier.objectId).toBe(a.objectId);
          expect(p.jd).toBe(earlier.candidate.jd);
          expect(p.magpsf).toBe(earlier.candidate.magpsf);
          expect(p.rb).toBe(earlier.candidate.rb);
        }
      }
    }
    expect(quotedTonight).toBeGreaterThan(100);
    expect(limits).toBeGreaterThan(100);
  });

  it('has fp_hists as a short list or null', () => {
    const lengths = alerts.map((a) => (a.fp_hists as unknown[] | null)?.length ?? 0);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(5);
    expect(lengths.some((n) => n > 0)).toBe(true);
    expect(alerts.some((a) => a.fp_hists === null)).toBe(true);
  });

  it('makes messages of ~40–80 KB, like ZTF', () => {
    const schema = shippedSchema('4.02');
    const sizes = alerts.map((a) => writeContainer([a], schema).length);
    expect(Math.min(...sizes)).toBeGreaterThan(40 * 1024);
    expect(Math.max(...sizes)).toBeLessThan(80 * 1024);
    const mean = sizes.reduce((x, y) => x + y, 0) / sizes.length;
    expect(mean).toBeGreaterThan(55 * 1024);
  });
});
