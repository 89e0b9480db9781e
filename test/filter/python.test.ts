import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readInputs } from '../../src/alert/index.ts';
import { createJudge, isUndecodable, runBatch } from '../../src/filter/index.ts';
import { PythonJudge } from '../../src/filter/python/python-judge.ts';
import { BROKEN_FILE, SAMPLE_TARBALL, TRAILING_GARBAGE_FILE } from '../helpers/data.ts';
import { venvPython } from '../helpers/python.ts';
import { fixture, tarballAlerts } from './helpers.ts';
import type { SampleAlert } from './helpers.ts';

const py = (name: string): string => fixture(`python/${name}`);
const PREDEFINED = (name: string): string => new URL(`../../src/filter/python/predefined/${name}.py`, import.meta.url).pathname;

async function loadError(path: string): Promise<Error & { code?: string }> {
  const err = await PythonJudge.start([path], { python: venvPython(), workers: 1 }).then(
    async (j) => {
      await j.close();
      throw new Error(`${path} loaded`);
    },
    (e: unknown) => e as Error & { code?: string },
  );
  return err;
}

describe('a Python filter of the wrong shape is refused at load, naming the file and line', () => {
  it.each([
    ['no_function.py', 1, /defines no alert_filter\(alert\) function/],
    ['not_callable.py', 3, /alert_filter is a float, not a function/],
    ['syntax_error.py', 2, /SyntaxError: invalid syntax/],
    ['import_error.py', 4, /ModuleNotFoundError: No module named 'no_such_module_for_zads'/],
    ['two_args.py', 1, /must take exactly one argument/],
    ['bad_name.py', 1, /`name` must be 1-64 of/],
  ])('%s', async (file, line, message) => {
    const err = await loadError(py(file));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(`${py(file)}:${line}: `);
    expect(err.message).toMatch(message);
  });

  it('a missing module or interpreter says what to do', async () => {
    expect((await loadError(py('nope.py'))).code).toBe('INPUT_NOT_FOUND');
    const err = await PythonJudge.start([py('raises.py')], { python: '/nonexistent/python' }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/ops\/python-env\.sh/);
  });
});

describe('Python filters judge real alerts, each call contained', () => {
  let alerts: SampleAlert[];
  beforeAll(async () => {
    alerts = await tarballAlerts();
  });

  const judgeAll = async (judge: { judge: PythonJudge['judge'] }): Promise<string[][]> => {
    const verdicts = await Promise.all(alerts.map((a) => judge.judge(a.bytes, { member: `${a.candid}.avro` })));
    return verdicts[0]!.passed.map((_, i) => verdicts.flatMap((v) => v.passed[i]!.map((r) => r.candid.toString())).sort());
  };
  const field = (a: SampleAlert, name: string): number => a.decoded.alert.candidate[name] as number;
  const candids = (pred: (a: SampleAlert) => boolean): string[] => alerts.filter(pred).map((a) => a.candid).sort();

  it('gives fastavro dictionaries (ints, bytes) to each filter, one decode per filter; print() stays out of the protocol', async () => {
    const judge = await PythonJudge.start([py('shape.py'), PREDEFINED('bright')], { python: venvPython(), workers: 2 });
    try {
      expect(judge.filters).toEqual([
        { name: 'py-shape', version: '2.1' },
        { name: 'bright', version: '1.0.0' },
      ]);
      const [shape, bright] = await judgeAll(judge);
      expect(shape).toEqual(candids(() => true));
      // py-shape sets magpsf to -99 in its own copy: bright must still judge the real magnitude.
      expect(bright).toEqual(candids((a) => field(a, 'magpsf') < 17));
      const verdict = await judge.judge(alerts[0]!.bytes, {});
      expect(verdict.alerts[0]).toEqual({ candid: alerts[0]!.decoded.alert.candid, objectId: alerts[0]!.objectId, jd: alerts[0]!.decoded.alert.candidate.jd });
    } finally {
      await judge.close();
    }
  });

  it('raising, non-bool and endless-loop filters fail only their own alerts, counted; hung hosts are replaced; the others exact', async () => {
    const judge = await createJudge([py('raises.py'), 'purity', py('non_bool.py'), py('hangs.py'), PREDEFINED('bright')], {
      timeoutMs: 100,
      hangMs: 300,
      python: { python: venvPython(), workers: 2 },
    });
    try {
      const [raises, purity, nonBool, hangs, bright] = await judgeAll(judge);
      const faint = alerts.filter((a) => field(a, 'magpsf') >= 18).length;
      const gBand = alerts.filter((a) => field(a, 'fid') === 1).length;
      const stuck = alerts.filter((a) => field(a, 'magpsf') < 16).length;
      expect(faint).toBeGreaterThan(0);
      expect(gBand).toBeGreaterThan(0);
      expect(stuck).toBeGreaterThan(0);
      expect(raises).toEqual(candids((a) => field(a, 'magpsf') < 18));
      expect(purity!.length).toBeGreaterThan(0);
      expect(nonBool).toEqual(candids((a) => field(a, 'fid') !== 1));
      expect(hangs).toEqual([]);
      expect(bright).toEqual(candids((a) => field(a, 'magpsf') < 17));
      const stats = judge.stats;
      expect(stats.map((s) => s.name)).toEqual(['py-raises', 'purity', 'py-non-bool', 'py-hangs', 'bright']);
      expect(stats[0]).toMatchObject({ tested: 30, errors: faint, timeouts: 0, passed: 30 - faint });
      expect(stats[0]!.lastError).toMatch(/^ValueError: too faint for me: \d+ \(raises\.py:\d+\)$/);
      expect(stats[2]).toMatchObject({ tested: 30, errors: gBand, passed: 30 - gBand });
      expect(stats[2]!.lastError).toMatch(/returned (int|None), not a bool/);
      expect(stats[3]).toMatchObject({ tested: 30, timeouts: stuck, errors: 0, passed: 0, rejected: 30 - stuck });
      expect(stats[4]).toMatchObject({ tested: 30, errors: 0, timeouts: 0 });
    } finally {
      await judge.close();
    }
  });

  it('a host that dies on an alert (os._exit) is replaced; that alert fails that filter, the rest are exact', async () => {
    const judge = await PythonJudge.start([py('exits.py'), PREDEFINED('purity')], { python: venvPython(), workers: 2 });
    try {
      const [exits, purity] = await judgeAll(judge);
      const dying = alerts.filter((a) => field(a, 'magpsf') < 16);
      expect(dying.length).toBeGreaterThan(0);
      expect(exits).toEqual(candids((a) => field(a, 'magpsf') >= 16));
      // An alert that takes down a host three times fails every filter of the host, purity included.
      expect(judge.stats[0]).toMatchObject({ tested: 30, errors: dying.length, passed: 30 - dying.length });
      expect(judge.stats[1]).toMatchObject({ tested: 30, errors: dying.length });
      expect(purity!.every((c) => !dying.some((a) => a.candid === c))).toBe(true);
      expect(judge.restarts).toBeGreaterThanOrEqual(dying.length * 2);
    } finally {
      await judge.close();
    }
  });

  it('a call stuck in C code holding the GIL (its host silent) is ended by the runner; only that alert fails', async () => {
    const judge = await PythonJudge.start([py('holds_gil.py')], { python: venvPython(), workers: 2, timeoutMs: 100, hangMs: 200 });
    try {
      const [holds] = await judgeAll(judge);
      const stuck = alerts.filter((a) => field(a, 'magpsf') < 14);
      expect(stuck).toHaveLength(1);
      expect(holds).toEqual(candids((a) => field(a, 'magpsf') >= 14));
      const s = judge.stats[0]!;
      expect(s).toMatchObject({ tested: 30, passed: 29 });
      expect(s.errors + s.timeouts).toBe(1);
      expect(judge.restarts).toBeGreaterThanOrEqual(1);
    } finally {
      await judge.close();
    }
  });

  it('bytes that are no alert are undecodable, as for the TypeScript judge', async () => {
    const judge = await PythonJudge.start([PREDEFINED('purity')], { python: venvPython(), workers: 1 });
    try {
      for (const bytes of [Buffer.from('not an alert'), readFileSync(BROKEN_FILE), readFileSync(TRAILING_GARBAGE_FILE)]) {
        const err = await judge.judge(bytes, { file: 'x' }).catch((e: unknown) => e);
        expect(isUndecodable(err)).toBe(true);
      }
      expect(judge.stats[0]!.tested).toBe(0);
    } finally {
      await judge.close();
    }
  });

});

describe('the README Python example filter', () => {
  it('is the module the README shows, and runs on the real sample tarball as its TypeScript twin does', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`python\n${readFileSync(py('new_transient.py'), 'utf8')}\`\`\``);
    const judge = await createJudge([py('new_transient.py'), fixture('new-transient.ts')], { python: { python: venvPython(), workers: 2 } });
    try {
      const report = await runBatch({ judge, inputs: readInputs([SAMPLE_TARBALL]), sink: { pass: () => undefined } });
      expect(report.filters.map((f) => f.name)).toEqual(['new-transient-py', 'new-transient']);
      expect(report.passed['new-transient-py']).toBe(report.passed['new-transient']);
      expect(report.passed['new-transient-py']).toBeGreaterThan(0);
      expect(report.filters[0]).toMatchObject({ tested: 30, errors: 0, timeouts: 0 });
    } finally {
      await judge.close();
    }
  });
});
