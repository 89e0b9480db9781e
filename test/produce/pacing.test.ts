import { describe, expect, it } from 'vitest';
import { PublishPacer } from '../../src/produce/index.ts';

describe('PublishPacer', () => {
  it('sends as fast as possible by default', () => {
    const pacer = new PublishPacer({ mode: 'asap' }, () => 0);
    for (let i = 0; i < 10; i++) expect(pacer.next(undefined)).toBe(0);
  });

  it('spaces alerts evenly at a rate', () => {
    let now = 1000;
    const pacer = new PublishPacer({ mode: 'rate', alertsPerSec: 100 }, () => now);
    expect(pacer.next(undefined)).toBe(0);
    expect(pacer.next(undefined)).toBeCloseTo(10);
    now += 10;
    expect(pacer.next(undefined)).toBeCloseTo(10);
    now += 100; // late: no wait until it has caught up with the schedule
    expect(pacer.next(undefined)).toBe(0);
    expect(pacer.next(undefined)).toBe(0);
    now += 5000; // far behind (a stall): the schedule restarts instead of a burst of catching up
    expect(pacer.next(undefined)).toBe(0);
    expect(pacer.next(undefined)).toBeCloseTo(10);
  });

  it('sends each exposure burst at once, bursts spaced by their jd over the speed', () => {
    let now = 0;
    const pacer = new PublishPacer({ mode: 'exposures', speed: 40 }, () => now);
    const jd0 = 2460310.625;
    const jd1 = jd0 + 40 / 86_400;
    expect(pacer.startsBurst(jd0)).toBe(false);
    expect(pacer.next(jd0)).toBe(0);
    expect(pacer.startsBurst(jd0)).toBe(false);
    expect(pacer.next(jd0)).toBe(0);
    now = 200;
    expect(pacer.startsBurst(jd1)).toBe(true);
    expect(pacer.next(jd1)).toBeCloseTo(800); // 40 s of sky at speed 40 is 1 s after the first burst
    now = 1000;
    expect(pacer.next(jd1)).toBe(0);
  });
});
