import { describe, expect, it } from 'vitest';
import { candid, night, timeBound } from '../../src/api/params.ts';
import { fitsBytes, readFits } from '../../src/api/fits.ts';

describe('parameter parsing', () => {
  it('time bounds: Julian Dates as they are, ISO times as UTC (with or without a zone)', () => {
    expect(timeBound.parse('2458349.75')).toBe(2458349.75);
    expect(timeBound.parse('2018-08-19T06:00:00Z')).toBeCloseTo(2458349.75, 9);
    expect(timeBound.parse('2018-08-19T06:00:00')).toBeCloseTo(2458349.75, 9);
    expect(timeBound.parse('2018-08-19T08:00:00+02:00')).toBeCloseTo(2458349.75, 9);
    expect(timeBound.parse('2018-08-19')).toBeCloseTo(2458349.5, 9);
    expect(timeBound.parse('2458349')).toBe(2458349);
    for (const bad of ['yesterday', '19/08/2018', '2018-08-19T25:00:00Z', '']) expect(timeBound.safeParse(bad).success, bad).toBe(false);
  });

  it('nights are calendar dates; candids fit 64 bits', () => {
    expect(night.safeParse('20240229').success).toBe(true);
    expect(night.safeParse('20230229').success).toBe(false);
    expect(candid.safeParse('9223372036854775807').success).toBe(true);
    expect(candid.safeParse('9223372036854775808').success).toBe(false);
    expect(candid.safeParse('-1').success).toBe(false);
  });

  it('FITS: refuses what is not a 2-D image', () => {
    expect(() => readFits(Buffer.alloc(2880, 0x20))).toThrow(/not a FITS image/);
    const header = ['SIMPLE  =                    T', 'BITPIX  =                  -32', 'NAXIS   =                    1', 'NAXIS1  =                    4', 'END']
      .map((c) => c.padEnd(80))
      .join('')
      .padEnd(2880);
    expect(() => readFits(Buffer.concat([Buffer.from(header, 'latin1'), Buffer.alloc(2880)]))).toThrow(/NAXIS 1/);
    expect(fitsBytes(Buffer.from('plain'))).toEqual(Buffer.from('plain'));
  });
});
