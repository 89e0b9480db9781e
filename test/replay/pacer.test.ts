import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/replay/index.ts';

/*
 * When a replay's messages are due (epoch ms), from the pacing and the start time alone: pure logic,
 * no clock. dueAt(index, jd, arrivalMs) is asked in send order, as the replay asks it.
 */

const START = 1_700_000_000_000;
/** Due times of messages given as [jd, arrivalMs], asked in order from index 0. */
const dues = (pacer: Pacer, messages: [jd: number, arrivalMs: number][]): number[] => messages.map(([jd, at], i) => pacer.dueAt(i, jd, at) - START);

describe('replay Pacer', () => {
  it('max: every message is due at the start', () => {
    const pacer = new Pacer({ mode: 'max' }, START);
    expect(dues(pacer, [[1, 5], [2, 10_000], [3, 0]])).toEqual([0, 0, 0]);
  });

  it('rate: message n is due n / rate after the start, whatever its jd or arrival', () => {
    const pacer = new Pacer({ mode: 'rate', alertsPerSec: 200 }, START);
    expect(dues(pacer, [[1, 0], [1, 0], [2, 99], [3, 0], [3, 5]])).toEqual([0, 5, 10, 15, 20]);
  });

  it('rate: times are absolute, fixed at the start: errors do not add up over a long run', () => {
    const pacer = new Pacer({ mode: 'rate', alertsPerSec: 3 }, START);
    // 1000 / 3 ms is no whole number: summing steps would drift, n × 1000 / 3 does not.
    expect(pacer.dueAt(0, 0, 0)).toBe(START);
    expect(pacer.dueAt(3, 0, 0)).toBe(START + 1000);
    expect(pacer.dueAt(3_000_000, 0, 0)).toBe(START + 1_000_000_000);
    // Asked again for an earlier message (a resumed batch), the answer is the same.
    expect(pacer.dueAt(3, 0, 0)).toBe(START + 1000);
  });

  it('rate with bursts: an exposure (alerts sharing a jd) goes at once, when its first would have gone; the average rate is kept', () => {
    const pacer = new Pacer({ mode: 'rate', alertsPerSec: 10, bursts: true }, START);
    const A = 2460310.6;
    const B = 2460310.7;
    const C = 2460310.8;
    expect(dues(pacer, [[A, 0], [A, 0], [A, 0], [B, 0], [B, 0], [C, 0]])).toEqual([0, 0, 0, 300, 300, 500]);
    // The next burst's first message is due exactly when it would be without bursts.
    expect(new Pacer({ mode: 'rate', alertsPerSec: 10 }, START).dueAt(5, C, 0) - START).toBe(500);
  });

  it('rate with bursts: a jd seen before, after another, starts a new burst', () => {
    const pacer = new Pacer({ mode: 'rate', alertsPerSec: 100, bursts: true }, START);
    expect(dues(pacer, [[1, 0], [2, 0], [1, 0], [1, 0]])).toEqual([0, 10, 20, 20]);
  });

  it('speed: the original spacing of arrivals, `factor` times faster, from the first arrival', () => {
    const pacer = new Pacer({ mode: 'speed', factor: 60 }, START);
    const t0 = 1_600_000_000_000;
    expect(dues(pacer, [[0, t0], [0, t0 + 60_000], [0, t0 + 60_000], [0, t0 + 150_000]])).toEqual([0, 1000, 1000, 2500]);
  });

  it('speed: a message that arrived before the first is due at once, never before the start', () => {
    const pacer = new Pacer({ mode: 'speed', factor: 2 }, START);
    const t0 = 1_600_000_000_000;
    expect(dues(pacer, [[0, t0], [0, t0 - 10_000], [0, t0 + 4000]])).toEqual([0, 0, 2000]);
  });

  it('speed 1 is real time', () => {
    const pacer = new Pacer({ mode: 'speed', factor: 1 }, START);
    expect(dues(pacer, [[0, 500], [0, 1750]])).toEqual([0, 1250]);
  });
});
