import { describe, expect, it } from 'vitest';
import type { ZtfAlert } from '../../src/alert/index.ts';
import { FilterSet, InProcessJudge, bright, loadFilter, purity } from '../../src/filter/index.ts';
import type { AlertFilter } from '../../src/filter/index.ts';
import { createMetricsRegistry } from '../../src/metrics.ts';
import { fixture, tarballAlerts } from './helpers.ts';

const SOURCE = { file: 'test' };
const ctx = { source: SOURCE, signal: new AbortController().signal };

function filterOf(name: string, test: AlertFilter['test']): AlertFilter {
  return { name, version: '1', test };
}

describe('filters over one decode, each call contained', async () => {
  const alerts = await tarballAlerts();
  const throws = (await loadFilter(fixture('throws.ts'))).filter;
  const hangs = (await loadFilter(fixture('hangs.ts'))).filter;

  it('gives each filter\'s verdict in order, the same as calling the filters alone, and counts them', async () => {
    const judge = new InProcessJudge([purity, bright]);
    for (const a of alerts) {
      const expected = [purity.test(a.decoded.alert, ctx), bright.test(a.decoded.alert, ctx)];
      const verdict = await judge.judge(a.bytes, SOURCE);
      expect(verdict.alerts).toEqual([{ candid: a.decoded.alert.candid, objectId: a.objectId, jd: a.decoded.alert.candidate.jd }]);
      expect(verdict.passed.map((p) => p.length === 1)).toEqual(expected);
    }
    const [p, b] = judge.stats;
    expect(p).toMatchObject({ name: 'purity', version: '1.0.0', tested: 30, errors: 0, timeouts: 0 });
    expect(p!.passed + p!.rejected).toBe(30);
    expect(b!.passed).toBeGreaterThan(0);
  });

  it('contains a throwing and a hanging filter: counted, alert not passed, the others unaffected, the wait bounded by the timeout', async () => {
    const metrics = createMetricsRegistry();
    const judge = new InProcessJudge([throws, hangs, bright], { timeoutMs: 200, metrics });
    const sample = alerts.slice(0, 10);
    const t0 = performance.now();
    // Alerts judged side by side, as the runners do: the hung filter costs one timeout, not ten.
    const verdicts = await Promise.all(sample.map((a) => judge.judge(a.bytes, SOURCE)));
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(190);
    expect(ms).toBeLessThan(1500);
    for (let i = 0; i < sample.length; i++) {
      expect(verdicts[i]!.passed.map((p) => p.length)).toEqual([0, 0, (sample[i]!.decoded.alert.candidate.magpsf as number) < 17 ? 1 : 0]);
    }
    const [t, h, b] = judge.stats;
    expect(t).toMatchObject({ tested: 10, errors: 10, timeouts: 0, passed: 0, lastError: 'this filter always throws' });
    expect(h).toMatchObject({ tested: 10, errors: 0, timeouts: 10, passed: 0 });
    expect(b).toMatchObject({ tested: 10, errors: 0, timeouts: 0 });
    const text = await metrics.metrics();
    expect(text).toContain('zads_filter_verdicts_total{filter="throws",result="error"} 10');
    expect(text).toContain('zads_filter_verdicts_total{filter="hangs",result="timeout"} 10');
  });

  it('gives a rejection, a non-boolean answer and a slow synchronous call their outcome', async () => {
    const rejects = filterOf('rejects', () => Promise.reject(new Error('service down')));
    const truthy = filterOf('truthy', (() => 1) as unknown as AlertFilter['test']);
    const slow = filterOf('slow', () => {
      const until = performance.now() + 60;
      while (performance.now() < until);
      return true;
    });
    const set = new FilterSet([rejects, truthy, slow, bright], { timeoutMs: 50 });
    const faint = alerts.find((a) => (a.decoded.alert.candidate.magpsf as number) > 17)!;
    const e = await set.run(structuredClone(faint.decoded.alert), SOURCE);
    expect(e.outcomes).toEqual(['error', 'error', 'timeout', 'rejected']);
    expect(e.errors).toEqual(['service down', 'returned number, not a boolean', undefined, undefined]);
    expect(e.busyMs[2]).toBeGreaterThanOrEqual(50);
    expect((await set.run(structuredClone(faint.decoded.alert), SOURCE, { skip: new Set([0, 1, 2]) })).outcomes).toEqual(['skipped', 'skipped', 'skipped', 'rejected']);
  });

  it('aborts the signal of a call that runs out of time', async () => {
    let aborted: unknown;
    const waits = filterOf('waits', (_alert, c) => new Promise<boolean>((resolve) => {
      c.signal.addEventListener('abort', () => {
        aborted = c.signal.reason;
        resolve(true);
      });
    }));
    const set = new FilterSet([waits], { timeoutMs: 30 });
    expect((await set.run(structuredClone(alerts[0]!.decoded.alert), SOURCE)).outcomes).toEqual(['timeout']);
    expect(String(aborted)).toContain('timed out after 30 ms');
  });

  it('freezes the alert: a filter that writes to it fails alone and the next one sees the original', async () => {
    const writes = filterOf('writes', (alert: ZtfAlert) => {
      alert.candidate.magpsf = 10;
      return true;
    });
    const set = new FilterSet([writes, bright]);
    const faint = alerts.find((a) => (a.decoded.alert.candidate.magpsf as number) > 17)!;
    const e = await set.run(structuredClone(faint.decoded.alert), SOURCE);
    expect(e.outcomes).toEqual(['error', 'rejected']);
    expect(e.errors[0]).toMatch(/read.only|Cannot assign/);
  });

  it('rejects bad options by name', () => {
    expect(() => new FilterSet([purity], { timeoutMs: 0 })).toThrow('timeoutMs must be a positive number');
    expect(() => new FilterSet([])).toThrow('at least one filter');
  });
});
