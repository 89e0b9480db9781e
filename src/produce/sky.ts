import { msToJd } from '../alert/index.ts';
/**
 * The sky as ZTF tiles it: a fixed grid of ~7°×7° fields, each read out as 64 CCD quadrants (16 CCDs
 * in a 4×4 mosaic, 2×2 quadrants each, 3072×3080 pixels of ~1"). Positions, field numbers, rcid and
 * pixel coordinates of simulated alerts all come from here, so they agree with each other.
 */

/** Width of one quadrant on the sky, in degrees (3072 px × 1.01"). */
export const QUADRANT_SIZE_DEG = 0.862;
/** Width of a field on the sky: 8 quadrants, in degrees. */
export const FIELD_SIZE_DEG = 8 * QUADRANT_SIZE_DEG;
export const QUADRANT_WIDTH_PX = 3072;
export const QUADRANT_HEIGHT_PX = 3080;
/** Palomar's longitude, in degrees east. */
const PALOMAR_LONGITUDE_DEG = -116.8598;
/** ZTF's southern limit, in degrees of declination. */
const SOUTHERN_LIMIT_DEG = -31;
/** ZTF field numbers of the primary grid start here. */
const FIRST_FIELD_ID = 245;

export interface SkyField {
  /** ZTF-style field number. */
  id: number;
  raDeg: number;
  decDeg: number;
}

/** Where a position falls on the focal plane. */
export interface FocalPlaneSpot {
  /** Readout channel 0..63: (ccd - 1) * 4 + (quadrant - 1). */
  rcid: number;
  ccd: number;
  quadrant: number;
  xposPx: number;
  yposPx: number;
  mindtoedgePx: number;
}

function buildGrid(): SkyField[] {
  const fields: SkyField[] = [];
  let id = FIRST_FIELD_ID;
  for (let decDeg = SOUTHERN_LIMIT_DEG; decDeg <= 88; decDeg += 7) {
    const perRing = Math.max(1, Math.ceil((360 * Math.cos((decDeg * Math.PI) / 180)) / 7));
    for (let k = 0; k < perRing; k++) fields.push({ id: id++, raDeg: (360 * k) / perRing, decDeg });
  }
  return fields;
}

/** The fixed field grid (the same for every seed and night, as at ZTF). */
export const FIELD_GRID: readonly SkyField[] = buildGrid();

/** Julian date of 00:00 UTC of a night given as YYYYMMDD. */
export function jdOfNight(night: string): number {
  const ms = Date.UTC(Number(night.slice(0, 4)), Number(night.slice(4, 6)) - 1, Number(night.slice(6, 8)));
  return msToJd(ms);
}

/** Local sidereal time at Palomar at a Julian date, in degrees. */
export function localSiderealDeg(jd: number): number {
  const gmst = 280.46061837 + 360.98564736629 * (jd - 2451545.0);
  return (((gmst + PALOMAR_LONGITUDE_DEG) % 360) + 360) % 360;
}

/** Fields whose centre is within `maxHourAngleDeg` of the meridian at the given time. */
export function visibleFields(jd: number, maxHourAngleDeg = 75): SkyField[] {
  const lst = localSiderealDeg(jd);
  return FIELD_GRID.filter((f) => {
    const ha = Math.abs((((f.raDeg - lst) % 360) + 540) % 360 - 180);
    return ha <= maxHourAngleDeg || f.decDeg > 80;
  });
}

/**
 * Position of a point offset from a field centre by (dx, dy) degrees on the tangent plane (dx east),
 * and where it lands on the focal plane. Offsets must lie within ±FIELD_SIZE_DEG/2.
 */
export function placeInField(field: SkyField, dxDeg: number, dyDeg: number): { raDeg: number; decDeg: number; spot: FocalPlaneSpot } {
  const decDeg = Math.min(89.99, field.decDeg + dyDeg);
  const cosDec = Math.max(0.02, Math.cos((field.decDeg * Math.PI) / 180));
  const raDeg = (((field.raDeg + dxDeg / cosDec) % 360) + 360) % 360;
  const half = FIELD_SIZE_DEG / 2;
  const col = Math.min(7, Math.max(0, Math.floor((dxDeg + half) / QUADRANT_SIZE_DEG)));
  const row = Math.min(7, Math.max(0, Math.floor((dyDeg + half) / QUADRANT_SIZE_DEG)));
  const fx = Math.min(0.9999, Math.max(0, (dxDeg + half) / QUADRANT_SIZE_DEG - col));
  const fy = Math.min(0.9999, Math.max(0, (dyDeg + half) / QUADRANT_SIZE_DEG - row));
  const ccd = Math.floor(row / 2) * 4 + Math.floor(col / 2) + 1;
  const right = col % 2 === 1;
  const top = row % 2 === 1;
  // ZTF numbers quadrants counter-clockwise from the upper right.
  const quadrant = top ? (right ? 1 : 2) : right ? 4 : 3;
  const xposPx = fx * QUADRANT_WIDTH_PX;
  const yposPx = fy * QUADRANT_HEIGHT_PX;
  return {
    raDeg,
    decDeg,
    spot: {
      rcid: (ccd - 1) * 4 + (quadrant - 1),
      ccd,
      quadrant,
      xposPx,
      yposPx,
      mindtoedgePx: Math.min(xposPx, QUADRANT_WIDTH_PX - xposPx, yposPx, QUADRANT_HEIGHT_PX - yposPx),
    },
  };
}
