import { STREAM, hashInts, rngFor } from './rng.ts';
import { FIELD_SIZE_DEG, placeInField } from './sky.ts';
import type { FocalPlaneSpot, SkyField } from './sky.ts';
import { jdToMs } from '../alert/index.ts';

/**
 * The simulated objects of a seed. An object is named by its field and its index in that field's
 * population, and everything about it (objectId, position, kind, brightness) is a function of
 * (seed, field, index) alone — never of the night — so different nights of one seed see the same
 * objects at the same places under the same objectIds.
 */

export type ObjectKind = 'star' | 'transient' | 'nuclear' | 'bogus';

/** Objects per field are numbered below this; it keeps objectIds unique (field × MAX + index < 26^6). */
export const MAX_OBJECTS_PER_FIELD = 100_000;
const LETTER_SPACE = 26 ** 6;
/** ZTF's first alerts: 2018-03-17. */
const FIRST_ALERT_JD = 2458194.5;
/** Objects of a seed were all first seen before 2024-01-01. */
const LAST_FIRST_JD = 2460310.5;

export interface Ps1Neighbour {
  objid: bigint;
  distArcsec: number;
  sgscore: number;
  gMag: number;
  rMag: number;
  iMag: number;
  zMag: number;
}

export interface SimObject {
  field: SkyField;
  index: number;
  objectId: string;
  kind: ObjectKind;
  raDeg: number;
  decDeg: number;
  spot: FocalPlaneSpot;
  /** Magnitude of the nearest source in the reference image (r band); null when there is none nearby. */
  refMag: number | null;
  refDistArcsec: number;
  /** Mean difference magnitude (r band) for transients and bogus detections. */
  baseMag: number;
  colorGR: number;
  amplitudeMag: number;
  periodDays: number;
  phase: number;
  /** Typical real/bogus score of its detections. */
  realness: number;
  ps1: Ps1Neighbour[];
  firstJd: number;
  /** Chance of a detection or an upper limit on any one earlier day. */
  historyRatePerDay: number;
  refFwhmPx: number;
  refSharp: number;
  refChi: number;
  classtar: number;
  gaiaMag: number | null;
  gaiaDistArcsec: number | null;
  /** Frames in its reference image, and the dates it was built from. */
  nframesref: number;
  jdstartref: number;
  jdendref: number;
}

/** Encodes a number below 26^6 as six lowercase letters. */
function letters(n: number): string {
  let out = '';
  for (let k = 0; k < 6; k++) {
    out = String.fromCharCode(97 + (n % 26)) + out;
    n = Math.floor(n / 26);
  }
  return out;
}

/** objectId of (field, index): ZTF + two-digit year + "a" + six letters, unique within a seed. */
export function objectIdFor(seed: number, fieldId: number, index: number, firstJd: number): string {
  const serial = fieldId * MAX_OBJECTS_PER_FIELD + index;
  // A bijection of [0, 26^6): 48271 is prime to 26, so distinct serials keep distinct letters.
  const scrambled = (serial * 48271 + (hashInts(seed, STREAM.objectIdScramble) % LETTER_SPACE)) % LETTER_SPACE;
  const year = new Date(jdToMs(firstJd)).getUTCFullYear() % 100;
  return `ZTF${String(year).padStart(2, '0')}a${letters(scrambled)}`;
}

/** A Pan-STARRS1 object id for a position, laid out like the real ones (zone, then RA). */
function ps1Id(raDeg: number, decDeg: number, salt: number): bigint {
  const zone = BigInt(Math.floor((decDeg + 90) / 0.008333));
  return zone * 10_000_000_000_000n + BigInt(Math.floor(raDeg * 1e7)) * 1000n + BigInt(salt % 1000);
}

const KINDS: readonly [ObjectKind, number][] = [
  ['star', 0.55],
  ['transient', 0.2],
  ['nuclear', 0.1],
  ['bogus', 0.15],
];

/** The object `index` of a field's population. */
export function simObject(seed: number, field: SkyField, index: number): SimObject {
  const rng = rngFor(seed, STREAM.population, field.id, index);
  const half = FIELD_SIZE_DEG / 2 - 0.001;
  const { raDeg, decDeg, spot } = placeInField(field, rng.range(-half, half), rng.range(-half, half));
  let u = rng.float();
  let kind: ObjectKind = 'bogus';
  for (const [k, p] of KINDS) {
    if (u < p) {
      kind = k;
      break;
    }
    u -= p;
  }
  const firstJd = rng.range(FIRST_ALERT_JD, LAST_FIRST_JD);
  const star = kind === 'star';
  const refMag = star ? rng.range(13.5, 19.5) : kind === 'nuclear' ? rng.range(16.5, 20) : rng.chance(0.7) ? rng.range(17.5, 21) : null;
  const refDistArcsec = star || kind === 'nuclear' ? rng.range(0.05, 0.6) : rng.range(0.5, 4);
  const ps1: Ps1Neighbour[] = [];
  let dist = star || kind === 'nuclear' ? refDistArcsec * rng.range(0.8, 1.3) : rng.range(0.3, 5);
  for (let k = 0; k < 3; k++) {
    const r = k === 0 && refMag !== null ? refMag + rng.range(-0.2, 0.2) : rng.range(17, 22.5);
    const color = rng.range(0.2, 1.2);
    ps1.push({
      objid: ps1Id(raDeg + rng.range(-1e-4, 1e-4), decDeg, rng.uint32()),
      distArcsec: dist,
      sgscore: k === 0 ? (star ? rng.range(0.95, 1) : rng.range(0, 0.35)) : rng.range(0, 1),
      gMag: r + color,
      rMag: r,
      iMag: r - color * 0.4,
      zMag: r - color * 0.6,
    });
    dist += rng.range(2, 12);
  }
  const gaia = star && refMag !== null && refMag < 19;
  return {
    field,
    index,
    objectId: objectIdFor(seed, field.id, index, firstJd),
    kind,
    raDeg,
    decDeg,
    spot,
    refMag,
    refDistArcsec,
    baseMag: kind === 'transient' ? rng.range(16.5, 20) : rng.range(18.5, 20.8),
    colorGR: star ? rng.range(0.2, 1.2) : rng.range(-0.1, 0.5),
    amplitudeMag: star ? rng.range(0.1, 1) : kind === 'transient' ? rng.range(0.5, 2) : rng.range(0.2, 0.8),
    periodDays: star ? rng.range(0.05, 40) : rng.range(30, 400),
    phase: rng.range(0, 2 * Math.PI),
    realness: kind === 'bogus' ? rng.range(0.02, 0.45) : rng.range(0.6, 0.99),
    ps1,
    firstJd,
    historyRatePerDay: rng.range(0.04, 0.2),
    refFwhmPx: rng.range(1.8, 2.4),
    refSharp: rng.range(-0.05, 0.05),
    refChi: rng.range(0.5, 2),
    classtar: star ? rng.range(0.9, 1) : rng.range(0, 0.9),
    gaiaMag: gaia ? refMag! + rng.range(-0.3, 0.3) : null,
    gaiaDistArcsec: gaia ? rng.range(0.05, 0.5) : null,
    nframesref: 15 + rng.int(26),
    jdstartref: rng.range(2458150, 2458250),
    jdendref: rng.range(2458300, 2458450),
  };
}

/** Brightness of an object in the difference image at a time: magnitude and sign (science − reference). */
export interface DiffBrightness {
  diffMag: number;
  positive: boolean;
}

function filterOffset(o: SimObject, fid: number): number {
  return fid === 1 ? o.colorGR : fid === 3 ? -0.45 * o.colorGR : 0;
}

/** The model light curve: variables change around their reference flux, transients add to it. */
export function brightnessAt(o: SimObject, jd: number, fid: number): DiffBrightness {
  const wave = Math.sin((2 * Math.PI * jd) / o.periodDays + o.phase);
  const offset = filterOffset(o, fid);
  if ((o.kind === 'star' || o.kind === 'nuclear') && o.refMag !== null) {
    const ref = o.refMag + offset;
    const now = ref - o.amplitudeMag * wave;
    const ratio = 10 ** (0.4 * (ref - now)) - 1;
    // A variable exactly at its reference level leaves almost nothing: keep it a faint residual.
    const size = Math.max(Math.abs(ratio), 0.002);
    return { diffMag: ref - 2.5 * Math.log10(size), positive: ratio >= 0 };
  }
  const diffMag = o.baseMag + offset + (o.amplitudeMag * (1 - wave)) / 2;
  return { diffMag, positive: o.kind !== 'bogus' || wave > -0.3 };
}
