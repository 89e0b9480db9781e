import type { ZtfAlert } from '../../alert/index.ts';
import type { AlertFilter } from '../types.ts';
import { numberField } from './fields.ts';

/**
 * The ZTF purity cut, "based on tests done at IPAC (F. Masci, priv. comm.)", as the ZTF alert
 * documentation gives it (zwickytransientfacility.github.io/ztf-avro-alert/filtering.html):
 *
 * - `rb ≥ 0.65` — RealBogus score of the detection;
 * - `nbad = 0` — no prior-tagged bad pixels in the 5×5 pixel stamp around it;
 * - `fwhm ≤ 5` — full width at half maximum (SExtractor, Gaussian core), pixels;
 * - `elong ≤ 1.2` — aimage / bimage;
 * - `|magdiff| ≤ 0.1` — magap − magpsf, mag.
 *
 * An alert lacking any of these fields (null) fails.
 */
export const purity: AlertFilter = {
  name: 'purity',
  version: '1.0.0',
  test(alert: ZtfAlert): boolean {
    const c = alert.candidate;
    const rb = numberField(c, 'rb');
    const nbad = numberField(c, 'nbad');
    const fwhm = numberField(c, 'fwhm');
    const elong = numberField(c, 'elong');
    const magdiff = numberField(c, 'magdiff');
    return (
      rb !== undefined && rb >= 0.65 &&
      nbad !== undefined && nbad === 0 &&
      fwhm !== undefined && fwhm <= 5 &&
      elong !== undefined && elong <= 1.2 &&
      magdiff !== undefined && Math.abs(magdiff) <= 0.1
    );
  },
};
