import type { ZtfAlert } from '../../alert/index.ts';
import type { AlertFilter } from '../types.ts';
import { isPositiveDifference, numberField } from './fields.ts';

/** sgscore1 below this: the nearest PS1 source is more likely a galaxy than a star. */
export const STAR_SCORE_LIMIT = 0.5;
/** distpsnr1 above this, arcsec: the detection is not on the nearest PS1 source. */
export const STAR_DISTANCE_ARCSEC = 1;
/** ssdistnr from 0 up to (not including) this, arcsec: a known solar-system object is there. */
export const ROCK_DISTANCE_ARCSEC = 12;

/**
 * Likely extragalactic transients: all three of
 *
 * - **positive difference**: `isdiffpos` is "t" (or "1", older alerts) — the source brightened;
 * - **not a star**: `sgscore1 < 0.5` or `distpsnr1 > 1″`. sgscore1 is the star/galaxy score (0 galaxy …
 *   1 star; Tachibana & Miller 2018, PASP 130, 128001) of the nearest Pan-STARRS1 source and distpsnr1
 *   its distance; 0.5 is their star line, and the ZTF filtering notebook (ZwickyTransientFacility/
 *   ztf-avro-alert, notebooks/Filtering_alerts.ipynb) has the same form with 1.5″ — we take 1″, about a
 *   ZTF pixel. ZTF writes −999 for both when PS1 has no source within 30″: −999 < 0.5, so such an alert
 *   is "not a star". With both fields null the cut fails;
 * - **no solar-system match**: `ssdistnr` null, negative (−999: none within 30″) or ≥ 12″ — the
 *   complement of the "rock" veto `0 ≤ ssdistnr < 12` of the ZTF Bright Transient Survey filter.
 *   Null here means "no known object" and passes.
 */
export const extragalactic: AlertFilter = {
  name: 'extragalactic',
  version: '1.0.0',
  test(alert: ZtfAlert): boolean {
    const c = alert.candidate;
    if (!isPositiveDifference(c)) return false;
    const sgscore1 = numberField(c, 'sgscore1');
    const distpsnr1 = numberField(c, 'distpsnr1');
    const notStar = (sgscore1 !== undefined && sgscore1 < STAR_SCORE_LIMIT) || (distpsnr1 !== undefined && distpsnr1 > STAR_DISTANCE_ARCSEC);
    if (!notStar) return false;
    const ssdistnr = numberField(c, 'ssdistnr');
    return ssdistnr === undefined || ssdistnr < 0 || ssdistnr >= ROCK_DISTANCE_ARCSEC;
  },
};
