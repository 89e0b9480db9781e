import type { AlertSummary, Catalogue, SkyBox } from '../../archive/index.ts';

const RAD = Math.PI / 180;

/**
 * The boxes that hold a cone: Dec ± r, and RA ± asin(sin r / cos dec) — the exact half-width of a small
 * circle's RA extent, which grows towards the poles. A cone that reaches a pole takes every RA; one that
 * crosses RA 0/360 becomes two boxes.
 */
export function coneBoxes(raDeg: number, decDeg: number, radiusDeg: number): SkyBox[] {
  const decMin = Math.max(-90, decDeg - radiusDeg);
  const decMax = Math.min(90, decDeg + radiusDeg);
  if (Math.abs(decDeg) + radiusDeg >= 90) return [{ raMin: 0, raMax: 360, decMin, decMax }];
  const half = Math.asin(Math.min(1, Math.sin(radiusDeg * RAD) / Math.cos(decDeg * RAD))) / RAD;
  const lo = raDeg - half;
  const hi = raDeg + half;
  if (half >= 180) return [{ raMin: 0, raMax: 360, decMin, decMax }];
  if (lo < 0) return [{ raMin: 0, raMax: hi, decMin, decMax }, { raMin: lo + 360, raMax: 360, decMin, decMax }];
  if (hi > 360) return [{ raMin: lo, raMax: 360, decMin, decMax }, { raMin: 0, raMax: hi - 360, decMin, decMax }];
  return [{ raMin: lo, raMax: hi, decMin, decMax }];
}

/** Angular distance between two sky positions, degrees (haversine: exact at small separations too). */
export function angularDistanceDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const dDec = (dec2 - dec1) * RAD;
  const dRa = (ra2 - ra1) * RAD;
  const a = Math.sin(dDec / 2) ** 2 + Math.cos(dec1 * RAD) * Math.cos(dec2 * RAD) * Math.sin(dRa / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / RAD;
}

export interface ConeAlert extends AlertSummary {
  /** Distance from the cone's centre, arcseconds. */
  distanceArcsec: number;
}

/**
 * The alerts within `radiusDeg` of (ra, dec), nearest first (ties by candid), at most `limit`. The R*Tree
 * finds the candidates in the boxes; the exact distance decides.
 */
export function coneSearch(catalogue: Catalogue, ra: number, dec: number, radiusDeg: number, limit: number): { alerts: ConeAlert[]; truncated: boolean } {
  const found: ConeAlert[] = [];
  const seen = new Set<string>();
  for (const box of coneBoxes(ra, dec, radiusDeg)) {
    for (const row of catalogue.alertsInBox(box)) {
      // A point on the RA 0/360 seam can fall in both boxes.
      if (seen.has(row.candid)) continue;
      seen.add(row.candid);
      const d = angularDistanceDeg(ra, dec, row.ra, row.dec);
      if (d <= radiusDeg) found.push({ ...row, distanceArcsec: d * 3600 });
    }
  }
  found.sort((a, b) => a.distanceArcsec - b.distanceArcsec || (BigInt(a.candid) < BigInt(b.candid) ? -1 : 1));
  return { alerts: found.slice(0, limit), truncated: found.length > limit };
}
