import type { Epoch } from './detection.ts';
import { brightnessAt } from './population.ts';
import type { SimObject } from './population.ts';
import { STREAM, rngFor } from './rng.ts';

/**
 * Earlier days of an object: on each of the 30 days before a night it was observed with a chance of
 * its own, once or twice (r, then g), and either detected or only an upper limit was measured. The
 * epochs of a day depend on (seed, object, day) alone, so every alert of the object, on any night,
 * quotes the same history.
 */

/** prv_candidates and fp_hists reach back this far, in days (as at ZTF). */
export const HISTORY_DAYS = 30;

export interface PastEpoch {
  epoch: Epoch;
  detected: boolean;
}

/** The object's epochs on the days before the night starting at `nightJd`, oldest first, within 30 days of `alertJd`. */
export function pastEpochs(seed: number, o: SimObject, nightJd: number, alertJd: number): PastEpoch[] {
  const out: PastEpoch[] = [];
  for (let d = HISTORY_DAYS; d >= 1; d--) {
    const dayJd = nightJd - d;
    const day = Math.round(dayJd - 0.5);
    const rng = rngFor(seed, STREAM.history, o.field.id, o.index, day);
    if (!rng.chance(o.historyRatePerDay)) continue;
    const visits = rng.chance(0.4) ? 2 : 1;
    let jd = dayJd + (3 + rng.range(0, 9)) / 24;
    for (let v = 0; v < visits; v++) {
      const fid: 1 | 2 = v === 0 ? 2 : 1;
      const epoch: Epoch = {
        jd,
        fid,
        nid: Math.floor(jd - 2457754.5),
        dayCode: Math.floor((jd + 0.5 - Math.floor(jd + 0.5)) * 1e5),
        diffmaglim: (fid === 1 ? 20.6 : 20.3) + rng.range(-0.6, 0.4),
        seeingPx: rng.range(1.6, 3.4),
        magzpsci: (fid === 1 ? 26.35 : 26.2) + rng.range(-0.08, 0.08),
        noiseProfile: 0,
        key: [STREAM.history, day, v],
      };
      const detected = brightnessAt(o, jd, fid).diffMag < epoch.diffmaglim - 0.1 && rng.chance(0.85);
      if (jd >= o.firstJd && jd >= alertJd - HISTORY_DAYS && jd < alertJd) out.push({ epoch, detected });
      jd += rng.range(0.02, 0.06);
    }
  }
  return out;
}
