import type { ZtfAlert } from '../../alert/index.ts';
import type { AlertFilter } from '../types.ts';
import { numberField } from './fields.ts';

/** Greatest distance to a known solar-system object for a match, in arcseconds. */
export const SOLAR_SYSTEM_MATCH_ARCSEC = 5;

/**
 * Detections of known solar-system objects: `0 ≤ ssdistnr ≤ 5″`. `ssdistnr` is the distance to the
 * nearest known solar-system object "if exists within 30 arcsec" (the schema's own words); ZTF
 * writes −999 or null when there is none, so both fail. 5″ is the match radius of the ZTF alert
 * filtering notebook (ZwickyTransientFacility/ztf-avro-alert, notebooks/Filtering_alerts.ipynb, where
 * `ssdistnr > 5` counts as "no solar-system object").
 */
export const solarSystem: AlertFilter = {
  name: 'solar-system',
  version: '1.0.0',
  test(alert: ZtfAlert): boolean {
    const ssdistnr = numberField(alert.candidate, 'ssdistnr');
    return ssdistnr !== undefined && ssdistnr >= 0 && ssdistnr <= SOLAR_SYSTEM_MATCH_ARCSEC;
  },
};
