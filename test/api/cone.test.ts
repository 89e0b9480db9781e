import { describe, expect, it } from 'vitest';
import { Catalogue } from '../../src/archive/index.ts';
import type { AlertRow } from '../../src/archive/index.ts';
import { angularDistanceDeg, coneBoxes, coneSearch } from '../../src/api/query/cone.ts';
import { seededRandom } from '../helpers/data.ts';

function row(candid: bigint, ra: number, dec: number): AlertRow {
  return {
    candid, objectId: `ZTFtest${candid}`, night: '20240101', programid: 1, jd: 2460311.5, ra, dec, fid: 1,
    magpsf: 18, sigmapsf: 0.1, rb: 0.9, drb: 0.9, schemaVersion: '4.02', topic: null, partition: null, kafkaOffset: null,
    kafkaTimestamp: null, segment: 'segments/x.seg', byteOffset: 0, byteLength: 1,
  };
}

/** Random points, plus crowds at the RA 0/360 seam and around both poles. */
function sky(): AlertRow[] {
  const random = seededRandom(42);
  const rows: AlertRow[] = [];
  let candid = 1000n;
  const add = (ra: number, dec: number) => rows.push(row(candid++, ((ra % 360) + 360) % 360, Math.max(-90, Math.min(90, dec))));
  for (let i = 0; i < 3000; i++) add(random() * 360, Math.asin(2 * random() - 1) * (180 / Math.PI));
  for (let i = 0; i < 1000; i++) add(359 + random() * 2, -2 + random() * 4);
  for (let i = 0; i < 1000; i++) add(random() * 360, 88 + random() * 2);
  for (let i = 0; i < 500; i++) add(random() * 360, -88 - random() * 2);
  return rows;
}

describe('cone search geometry', () => {
  const catalogue = new Catalogue(':memory:');
  const rows = sky();
  catalogue.record({ alerts: rows });

  const centres: [number, number, number][] = [
    [0.05, 0.3, 1], // straddles RA 0/360
    [359.9, -1.2, 0.7],
    [180, 89.5, 1], // reaches the pole: every RA
    [45, 88.7, 1], // RA extent far wider than the radius
    [300, -89.2, 0.9],
    [123.4, 10, 5],
  ];

  it.each(centres)('finds exactly the points within %s, %s, r=%s (brute force agrees)', (ra, dec, radius) => {
    const { alerts, truncated } = coneSearch(catalogue, ra, dec, radius, 100_000);
    const truth = rows.filter((r) => angularDistanceDeg(ra, dec, r.ra, r.dec) <= radius).map((r) => r.candid.toString());
    expect(truncated).toBe(false);
    expect(alerts.map((a) => a.candid).sort()).toEqual(truth.sort());
    expect(truth.length).toBeGreaterThan(0);
    for (let i = 1; i < alerts.length; i++) expect(alerts[i]!.distanceArcsec).toBeGreaterThanOrEqual(alerts[i - 1]!.distanceArcsec);
  });

  it('cuts at the limit and says so', () => {
    const { alerts, truncated } = coneSearch(catalogue, 0, 0, 1, 5);
    expect(alerts).toHaveLength(5);
    expect(truncated).toBe(true);
  });

  it('boxes: split at the seam, whole RA range at a pole', () => {
    expect(coneBoxes(0.5, 0, 1)).toHaveLength(2);
    expect(coneBoxes(359.5, 0, 1)).toHaveLength(2);
    expect(coneBoxes(10, 89.5, 1)).toEqual([{ raMin: 0, raMax: 360, decMin: 88.5, decMax: 90 }]);
    const [box] = coneBoxes(100, 60, 1);
    // At dec 60 the RA half-width is about r / cos(60°) = 2°.
    expect(box!.raMax - 100).toBeCloseTo(2.0, 1);
  });
});
