import { describe, expect, it } from 'vitest';
import type { ZtfAlert } from '../../src/alert/index.ts';
import { PREDEFINED_FILTERS, bright, extragalactic, purity, solarSystem } from '../../src/filter/index.ts';
import type { AlertFilter, FilterContext } from '../../src/filter/index.ts';
import { allRealAlerts } from './helpers.ts';
import type { SampleAlert } from './helpers.ts';

const ctx: FilterContext = { source: {}, signal: new AbortController().signal };

/** The candidate's fields as plain values, for expressions written independently of the filters. */
function c(a: SampleAlert): Record<string, unknown> {
  return a.decoded.alert.candidate;
}
const has = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

/** Each filter's cut, written again here from the words — not by calling the filter. */
const EXPECTED: Record<string, (a: SampleAlert) => boolean> = {
  purity: (a) => {
    const { rb, nbad, fwhm, elong, magdiff } = c(a);
    return has(rb) && has(nbad) && has(fwhm) && has(elong) && has(magdiff) && rb >= 0.65 && nbad === 0 && fwhm <= 5 && elong <= 1.2 && Math.abs(magdiff) <= 0.1;
  },
  extragalactic: (a) => {
    const { isdiffpos, sgscore1, distpsnr1, ssdistnr } = c(a);
    const positive = ['t', '1'].includes(String(isdiffpos));
    const galaxyLike = (has(sgscore1) && sgscore1 < 0.5) || (has(distpsnr1) && distpsnr1 > 1);
    const noRock = ssdistnr === null || ssdistnr === undefined || (has(ssdistnr) && (ssdistnr < 0 || ssdistnr >= 12));
    return positive && galaxyLike && noRock;
  },
  bright: (a) => has(c(a).magpsf) && (c(a).magpsf as number) < 17,
  'solar-system': (a) => has(c(a).ssdistnr) && (c(a).ssdistnr as number) >= 0 && (c(a).ssdistnr as number) <= 5,
};

function withCandidate(a: SampleAlert, fields: Record<string, unknown>): ZtfAlert {
  const alert = structuredClone(a.decoded.alert);
  Object.assign(alert.candidate, fields);
  return alert;
}

describe('predefined filters on the real ZTF alerts', async () => {
  const alerts = await allRealAlerts();

  it('ship the four filters under their names', () => {
    expect(Object.keys(PREDEFINED_FILTERS).sort()).toEqual(['bright', 'extragalactic', 'purity', 'solar-system']);
    expect(alerts.length).toBeGreaterThanOrEqual(40);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: every alert's verdict matches the cut computed from its own fields`, () => {
      const filter = PREDEFINED_FILTERS[name]!;
      const verdicts = alerts.map((a) => ({ candid: a.candid, got: filter.test(a.decoded.alert, ctx), want: expected(a) }));
      expect(verdicts.filter((v) => v.got !== v.want)).toEqual([]);
      const passing = verdicts.filter((v) => v.want).length;
      expect(verdicts.length - passing, 'at least one real alert fails').toBeGreaterThan(0);
      // Every real alert has ssdistnr = −999 (no known solar-system object near it): none can pass.
      if (name === 'solar-system') expect(passing).toBe(0);
      else expect(passing, 'at least one real alert passes').toBeGreaterThan(0);
    });
  }

  it('solar-system passes a real alert given a match within 5″, and not beyond', () => {
    const a = alerts[0]!;
    expect(solarSystem.test(withCandidate(a, { ssdistnr: 2.4 }), ctx)).toBe(true);
    expect(solarSystem.test(withCandidate(a, { ssdistnr: 5 }), ctx)).toBe(true);
    expect(solarSystem.test(withCandidate(a, { ssdistnr: 5.01 }), ctx)).toBe(false);
    expect(solarSystem.test(withCandidate(a, { ssdistnr: null }), ctx)).toBe(false);
  });

  it('a null field fails a cut that needs it', () => {
    const pure = alerts.find((a) => EXPECTED.purity!(a))!;
    expect(purity.test(pure.decoded.alert, ctx)).toBe(true);
    for (const field of ['rb', 'nbad', 'fwhm', 'elong', 'magdiff']) {
      expect(purity.test(withCandidate(pure, { [field]: null }), ctx), field).toBe(false);
    }
    const brightOne = alerts.find((a) => EXPECTED.bright!(a))!;
    expect(bright.test(withCandidate(brightOne, { magpsf: null }), ctx)).toBe(false);
    const transient = alerts.find((a) => EXPECTED.extragalactic!(a))!;
    expect(extragalactic.test(withCandidate(transient, { sgscore1: null, distpsnr1: null }), ctx)).toBe(false);
    expect(extragalactic.test(withCandidate(transient, { isdiffpos: null }), ctx)).toBe(false);
    // For the solar-system veto, null means "no known object" and passes; a rock within 12″ fails.
    expect(extragalactic.test(withCandidate(transient, { ssdistnr: null }), ctx)).toBe(true);
    expect(extragalactic.test(withCandidate(transient, { ssdistnr: 11.9 }), ctx)).toBe(false);
  });

  it('each filter has a version and a name fit for a topic', () => {
    for (const f of Object.values(PREDEFINED_FILTERS) as AlertFilter[]) {
      expect(f.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(f.name).toMatch(/^[a-z-]+$/);
    }
  });
});
