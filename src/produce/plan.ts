import type { Epoch } from './detection.ts';
import { MAX_OBJECTS_PER_FIELD } from './population.ts';
import { modInverse, nextPrime } from './primes.ts';
import { STREAM, hashInts, rngFor } from './rng.ts';
import { jdOfNight, localSiderealDeg, visibleFields } from './sky.ts';
import type { SkyField } from './sky.ts';

/**
 * The schedule of a simulated night: exposures ~40 s apart (30 s open, ~10 s readout and slew) from
 * about 03:00 UTC, fields visited in blocks two or three times (r, then g, then r again, as ZTF does),
 * and which of a field's objects alert in each exposure. The plan holds one small record per exposure
 * (at most ~900 a night), never the alerts.
 */

/** Exposures start no earlier than this (UTC hours of the night's date)… */
export const NIGHT_START_UTC_HOURS = 3;
/** …and end by this. */
export const NIGHT_END_UTC_HOURS = 13;
export const EXPOSURE_SECONDS = 30;
/** Noise profiles (sky level and noise) per seed that exposures choose from. */
export const NOISE_PROFILES = 4;
const MIN_ALERTS_PER_EXPOSURE = 200;
const MAX_ALERTS_PER_EXPOSURE = 2000;
const MAX_EXPOSURES = 850;
const FIELDS_PER_BLOCK = 8;

/** An exposure of the night: when, where, in which filter, and which of the field's objects alert. */
export interface Exposure extends Epoch {
  index: number;
  field: SkyField;
  /** Number of alerts from this exposure. */
  size: number;
  /** Member t (0 ≤ t < size) is object (step·t + offset) mod populationSize. */
  step: number;
  stepInverse: number;
  offset: number;
  /** Earlier exposures of the same field this night, oldest first. */
  earlierVisits: number[];
}

export interface NightPlan {
  seed: number;
  night: string;
  programid: number;
  count: number;
  /** Objects per field that may alert this night (a prime, so the selection steps are bijections). */
  populationSize: number;
  exposures: Exposure[];
}

export interface PlanOptions {
  seed: number;
  night: string;
  programid: number;
  count: number;
}

function exposureSizes(count: number, weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(1, Math.floor((count * w) / total)));
  let left = count - sizes.reduce((a, b) => a + b, 0);
  for (let j = 0; left !== 0; j = (j + 1) % sizes.length) {
    if (left > 0) {
      sizes[j]!++;
      left--;
    } else if (sizes[j]! > 1) {
      sizes[j]!--;
      left++;
    }
  }
  return sizes;
}

/** The night's plan. Deterministic in (seed, night, programid, count). */
export function planNight(options: PlanOptions): NightPlan {
  const { seed, night, programid, count } = options;
  const nightNumber = Number(night);
  const rng = rngFor(seed, STREAM.night, nightNumber, programid);
  const perExposure = Math.max(Math.min(Math.max(count / 400, MIN_ALERTS_PER_EXPOSURE), MAX_ALERTS_PER_EXPOSURE), count / MAX_EXPOSURES);
  const nExposures = Math.max(1, Math.ceil(count / perExposure));
  const sizes = exposureSizes(
    count,
    Array.from({ length: nExposures }, () => rng.range(0.6, 1.4)),
  );
  const maxSize = Math.max(...sizes);
  const populationSize = nextPrime(Math.max(Math.ceil(perExposure * 1.5), maxSize + 1));
  if (populationSize >= MAX_OBJECTS_PER_FIELD) {
    throw new RangeError(`a night of ${count} alerts needs ${populationSize} objects per field; the simulation allows ${MAX_OBJECTS_PER_FIELD - 1}`);
  }

  // Times: exposures back to back (30 s + 8–12 s overhead), started late enough to fit the night.
  const gaps = Array.from({ length: nExposures }, () => EXPOSURE_SECONDS + rng.range(8, 12));
  const windowSeconds = (NIGHT_END_UTC_HOURS - NIGHT_START_UTC_HOURS) * 3600;
  const busy = gaps.reduce((a, b) => a + b, 0);
  let t = NIGHT_START_UTC_HOURS * 3600 + rng.range(0, Math.max(0, Math.min(1800, windowSeconds - busy)));
  const nightJd = jdOfNight(night);

  // Fields: those near the meridian at local midnight, in the seed's order of preference, so nights
  // close in time revisit mostly the same fields (and objects).
  const midnightJd = nightJd + 8 / 24;
  const lst = localSiderealDeg(midnightJd);
  const visible = visibleFields(midnightJd)
    .map((f) => ({ f, priority: hashInts(seed, STREAM.fieldPriority, f.id) }))
    .sort((a, b) => a.priority - b.priority);
  const wanted = Math.max(1, Math.min(visible.length, Math.ceil(nExposures / 2.5)));
  // Observe setting fields (west of the meridian) first.
  const hourAngle = (f: SkyField) => ((((lst - f.raDeg) % 360) + 540) % 360) - 180;
  const fields = visible
    .slice(0, wanted)
    .map((v) => v.f)
    .sort((a, b) => hourAngle(b) - hourAngle(a));

  const visits: { field: SkyField; fid: 1 | 2 | 3 }[] = [];
  for (let b = 0; visits.length < nExposures; b += FIELDS_PER_BLOCK) {
    const block = Array.from({ length: Math.min(FIELDS_PER_BLOCK, fields.length) }, (_, k) => fields[(b + k) % fields.length]!);
    const passes = rng.chance(0.5) ? 3 : 2;
    for (let p = 0; p < passes; p++) {
      const fid: 1 | 2 | 3 = rng.chance(0.04) ? 3 : p % 2 === 0 ? 2 : 1;
      for (const field of block) visits.push({ field, fid });
    }
  }

  const lastVisits = new Map<number, number[]>();
  const exposures: Exposure[] = [];
  for (let j = 0; j < nExposures; j++) {
    const { field, fid } = visits[j]!;
    const ex = rngFor(seed, STREAM.exposure, nightNumber, programid, j);
    const jd = nightJd + t / 86_400;
    t += gaps[j]!;
    const dayFraction = jd + 0.5 - Math.floor(jd + 0.5);
    const step = 1 + ex.int(populationSize - 1);
    const earlier = lastVisits.get(field.id) ?? [];
    exposures.push({
      index: j,
      jd,
      field,
      fid,
      size: sizes[j]!,
      step,
      stepInverse: modInverse(step, populationSize),
      offset: ex.int(populationSize),
      nid: Math.floor(jd - 2457754.5),
      dayCode: Math.floor(dayFraction * 1e5),
      diffmaglim: (fid === 1 ? 20.6 : fid === 2 ? 20.3 : 19.8) + ex.range(-0.6, 0.4),
      seeingPx: ex.range(1.6, 3.4),
      magzpsci: (fid === 1 ? 26.35 : fid === 2 ? 26.2 : 25.9) + ex.range(-0.08, 0.08),
      noiseProfile: ex.int(NOISE_PROFILES),
      key: [nightNumber, programid, j],
      earlierVisits: [...earlier],
    });
    lastVisits.set(field.id, [...earlier, j]);
  }
  return { seed, night, programid, count, populationSize, exposures };
}

/** The object index of member t of an exposure. */
export function memberAt(plan: NightPlan, exposure: Exposure, t: number): number {
  return (exposure.step * t + exposure.offset) % plan.populationSize;
}

/** Whether object `index` of the exposure's field alerts in that exposure. */
export function isMember(plan: NightPlan, exposure: Exposure, index: number): boolean {
  const n = plan.populationSize;
  const t = (exposure.stepInverse * (((index - exposure.offset) % n) + n)) % n;
  return t < exposure.size;
}
