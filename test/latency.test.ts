import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/latency.ts';

describe('LatencyHistogram', () => {
  it('gives exact percentiles of latencies under 2 s', () => {
    const r = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) r.record(i);
    expect(r.summary()).toEqual({ p50: 50, p99: 99, max: 100, count: 100 });
    expect(new LatencyHistogram().summary()).toEqual({ p50: 0, p99: 0, max: 0, count: 0 });
  });

  it('stays bounded and close on long runs, with the exact maximum', () => {
    const r = new LatencyHistogram();
    for (let i = 0; i < 200_000; i++) r.record(i % 1000);
    r.record(5000);
    const s = r.summary();
    expect(s.max).toBe(5000);
    expect(Math.abs(s.p50 - 500)).toBeLessThan(40);
    expect(Math.abs(s.p99 - 990)).toBeLessThan(15);
    expect(r.count).toBe(200_001);
  });
});
