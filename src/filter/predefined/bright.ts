import type { ZtfAlert } from '../../alert/index.ts';
import type { AlertFilter } from '../types.ts';
import { numberField } from './fields.ts';

/** The bright limit, mag: brighter (smaller) than this passes. */
export const BRIGHT_LIMIT_MAG = 17;

/**
 * Bright detections: `magpsf < 17`, the PSF-fit magnitude of the detection on the difference image
 * (the limit is the one the filters issue sets). No other cut is applied — run it beside `purity` for a
 * clean sample. An alert without a magpsf fails.
 */
export const bright: AlertFilter = {
  name: 'bright',
  version: '1.0.0',
  test(alert: ZtfAlert): boolean {
    const magpsf = numberField(alert.candidate, 'magpsf');
    return magpsf !== undefined && magpsf < BRIGHT_LIMIT_MAG;
  },
};
