import { afterEach, describe, expect, it } from 'vitest';
import { isZadsError } from '../../src/errors.ts';
import { readInputs } from '../../src/alert/index.ts';
import { InProcessJudge, IsolatedJudge, bright, createJudge, loadFilters, purity, runBatch } from '../../src/filter/index.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import type { Judge } from '../../src/filter/index.ts';
import { EXIT_CANDID } from './fixtures/exits.ts';
import { fixture, tarballAlerts } from './helpers.ts';

const SOURCE = { file: 'test' };
const ctx = { source: SOURCE, signal: new AbortController().signal };

describe('filters isolated in a worker thread', async () => {
  const alerts = await tarballAlerts();
  const judges: Judge[] = [];
  afterEach(async () => {
    for (const j of judges.splice(0)) await j.close();
  });
  const start = async (specs: string[], options: Parameters<typeof IsolatedJudge.start>[1] = {}): Promise<IsolatedJudge> => {
    const judge = await IsolatedJudge.start(specs, options);
    judges.push(judge);
    return judge;
  };

  it('gives the same verdicts and counts as running in-process', async () => {
    const specs = ['purity', 'bright', fixture('odd-candid.ts')];
    const isolated = await createJudge(specs);
    judges.push(isolated);
    expect(isolated).toBeInstanceOf(IsolatedJudge);
    const here = new InProcessJudge((await loadFilters(specs)).map((l) => l.filter));
    const a = await Promise.all(alerts.map((x) => isolated.judge(x.bytes, SOURCE)));
    const b = await Promise.all(alerts.map((x) => here.judge(x.bytes, SOURCE)));
    expect(a).toEqual(b);
    const strip = (s: { busyMs: number }[]) => s.map(({ busyMs: _busy, ...rest }) => rest);
    expect(strip(isolated.stats)).toEqual(strip(here.stats));
    expect(isolated.filters).toEqual([
      { name: 'purity', version: '1.0.0' },
      { name: 'bright', version: '1.0.0' },
      { name: 'odd-candid', version: '2.1.0' },
    ]);
  });

  it('ends a filter stuck in a synchronous loop: counted as a timeout, the other filters\' verdicts intact, judging goes on', async () => {
    const judge = await start(['purity', fixture('loops.ts'), 'bright'], { timeoutMs: 100, hangMs: 300 });
    const stuck = alerts.filter((a) => (a.decoded.alert.candidate.magpsf as number) < 16);
    expect(stuck.length).toBeGreaterThan(0);
    const verdicts = await Promise.all(alerts.map((a) => judge.judge(a.bytes, SOURCE)));
    alerts.forEach((a, i) => {
      expect(verdicts[i]!.passed.map((p) => p.length), a.candid).toEqual([purity.test(a.decoded.alert, ctx) ? 1 : 0, 0, bright.test(a.decoded.alert, ctx) ? 1 : 0]);
    });
    const [p, l, b] = judge.stats;
    expect(l).toMatchObject({ tested: 30, timeouts: stuck.length, rejected: 30 - stuck.length, passed: 0 });
    expect(p!.tested).toBe(30);
    expect(b!.tested).toBe(30);
    expect(judge.restarts).toBe(stuck.length);
    // And after all that, it still judges.
    expect((await judge.judge(alerts[0]!.bytes, SOURCE)).alerts).toHaveLength(1);
  });

  it('survives a filter that ends its thread: that alert fails every filter after three tries, the others are judged', async () => {
    const judge = await start(['bright', fixture('exits.ts')]);
    const verdicts = await Promise.all(alerts.map((a) => judge.judge(a.bytes, SOURCE)));
    alerts.forEach((a, i) => {
      const expected = a.decoded.alert.candid === EXIT_CANDID ? [0, 0] : [bright.test(a.decoded.alert, ctx) ? 1 : 0, 1];
      expect(verdicts[i]!.passed.map((p) => p.length), a.candid).toEqual(expected);
    });
    expect(judge.restarts).toBe(3);
    expect(judge.stats[1]).toMatchObject({ tested: 30, passed: 29, errors: 1, lastError: 'filter worker exited with code 3 on this alert 3 times' });
  });

  it('reports an undecodable item as the codec does', async () => {
    const judge = await start(['purity']);
    const err = await judge.judge(Buffer.from('not an alert'), { topic: 't', partition: 1, offset: '7' }).catch((e: unknown) => e);
    expect(isZadsError(err, 'ALERT_NOT_CONTAINER')).toBe(true);
    expect((err as { context: unknown }).context).toMatchObject({ topic: 't', partition: 1, offset: '7' });
  });

  it('fails to start, naming the module, when a filter does not load in the worker', async () => {
    const err = await IsolatedJudge.start([fixture('fails-on-load.ts')]).catch((e: unknown) => e);
    expect(isZadsError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toBe(`cannot load filter module ${fixture('fails-on-load.ts')}: cannot start: FILTER_API_KEY is not set`);
  });

  it('rejects what is in flight on close, and anything after', async () => {
    const judge = await start([fixture('hangs.ts')], { timeoutMs: 5000 });
    const inFlight = judge.judge(alerts[0]!.bytes, SOURCE).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await judge.close();
    await judge.close();
    expect(String(await inFlight)).toContain('closed with alerts in flight');
    expect(String(await judge.judge(alerts[0]!.bytes, SOURCE).catch((e: unknown) => e))).toContain('closed');
  });

  it('a judge that cannot go on fails a batch run rather than skipping its alerts as undecodable', async () => {
    const judge = await start(['purity']);
    await judge.close();
    await expect(runBatch({ judge, inputs: readInputs([SAMPLE_TARBALL]), sink: { pass: () => undefined } })).rejects.toThrow('the filter worker is closed');
  });
});
