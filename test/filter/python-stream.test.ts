import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readInputs } from '../../src/alert/index.ts';
import { FILTER_HEADER, bright, createJudge, purity, runBatch } from '../../src/filter/index.ts';
import type { BatchSink, Judge } from '../../src/filter/index.ts';
import { backgroundZads, runZads } from '../helpers/cli.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';
import { cluster, freshNight, kafkaFor, readTopic, recordsIn } from '../helpers/kafka.ts';
import { venvPython } from '../helpers/python.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { waitFor } from '../helpers/wait.ts';
import { alertMessages, fixture, startFilterStream, tarballAlerts } from './helpers.ts';
import type { SampleAlert } from './helpers.ts';

const uw = kafkaFor(UW_BROKERS);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const ctx = { source: {}, signal: new AbortController().signal };
const PURITY_PY = new URL('../../src/filter/python/predefined/purity.py', import.meta.url).pathname;
const py = (name: string): string => fixture(`python/${name}`);

/** Python purity and TypeScript bright side by side, with a raising, a hanging and a non-bool Python filter. */
const SPECS = [PURITY_PY, 'bright', py('raises.py'), py('hangs.py'), py('non_bool.py')];
const NAMES = ['purity', 'bright', 'py-raises', 'py-hangs', 'py-non-bool'];

describe('Python and TypeScript filters side by side over the real sample alerts', () => {
  let alerts: SampleAlert[];
  /** Per filter (SPECS order): the candids that must pass. */
  let expected: string[][];
  let faint: number;
  let gBand: number;
  let stuck: number;
  const field = (a: SampleAlert, name: string): number => a.decoded.alert.candidate[name] as number;

  beforeAll(async () => {
    alerts = await tarballAlerts();
    const pass = (pred: (a: SampleAlert) => boolean): string[] => alerts.filter(pred).map((a) => a.candid).sort();
    expected = [
      pass((a) => purity.test(a.decoded.alert, ctx) === true),
      pass((a) => bright.test(a.decoded.alert, ctx) === true),
      pass((a) => field(a, 'magpsf') < 18),
      [],
      pass((a) => field(a, 'fid') !== 1),
    ];
    faint = alerts.length - expected[2]!.length;
    gBand = alerts.length - expected[4]!.length;
    stuck = alerts.filter((a) => field(a, 'magpsf') < 16).length;
    for (const [i, e] of expected.entries()) if (i !== 3) expect(e.length, NAMES[i]).toBeGreaterThan(0);
    expect(Math.min(faint, gBand, stuck)).toBeGreaterThan(0);
  });

  const newJudge = (): Promise<Judge> => createJudge(SPECS, { timeoutMs: 150, hangMs: 400, python: { python: venvPython(), workers: 2 } });

  const expectCounts = (stats: Judge['stats']): void => {
    expect(stats.map((s) => s.name)).toEqual(NAMES);
    expect(stats[0]).toMatchObject({ tested: 30, passed: expected[0]!.length, errors: 0, timeouts: 0 });
    expect(stats[1]).toMatchObject({ tested: 30, passed: expected[1]!.length, errors: 0, timeouts: 0 });
    expect(stats[2]).toMatchObject({ tested: 30, passed: 30 - faint, errors: faint, timeouts: 0 });
    expect(stats[3]).toMatchObject({ tested: 30, passed: 0, timeouts: stuck, errors: 0 });
    expect(stats[4]).toMatchObject({ tested: 30, passed: 30 - gBand, errors: gBand, timeouts: 0 });
  };

  describe('on the live stream (real broker, read_committed)', () => {
    it('writes exactly the expected candids per filter, byte-identical; the failing Python filters fail only their own alerts, counted', async () => {
      const night = await freshNight(uw, { night: '20240111', partitions: 3, messages: [...alertMessages(alerts), { key: 'junk', value: Buffer.from('not an alert') }] });
      const judge = await newJudge();
      onTestFinished(() => judge.close());
      const runner = await startFilterStream({ cluster: cluster(UW_BROKERS), judge, topics: night.pattern, name: `py-${night.programid}`, discoveryIntervalMs: 200, reportIntervalMs: 0 });
      await waitFor('all 31 records judged', () => runner.stats.consumed >= 31, { timeoutMs: 120_000 });
      expect(runner.stats.undecodable).toBe(1);
      expectCounts(runner.stats.filters);
      const bytesOf = new Map(alerts.map((a) => [a.candid, sha(a.bytes)]));
      for (const [i, name] of NAMES.entries()) {
        if (expected[i]!.length === 0) {
          expect(await recordsIn(uw, `${night.topic}_${name}`), name).toBe(0);
          continue;
        }
        const out = await readTopic(uw, `${night.topic}_${name}`, expected[i]!.length, { withCandid: true });
        expect(out.map((r) => r.candid).sort(), name).toEqual(expected[i]);
        for (const r of out) {
          expect(r.valueSha256).toBe(bytesOf.get(r.candid!));
          expect(r.message.headers![FILTER_HEADER]!.toString()).toBe(name);
        }
      }
    });
  });

  it('in batch over the sample tarball: the same candids, byte-identical, and the same counts', async () => {
    const judge = await newJudge();
    try {
      const passed: Map<string, string>[] = NAMES.map(() => new Map());
      const sink: BatchSink = {
        pass: (i, item, refs) => refs.forEach((r) => passed[i]!.set(r.candid.toString(), sha(item.bytes))),
      };
      const report = await runBatch({ judge, inputs: readInputs([SAMPLE_TARBALL]), sink });
      expect(report).toMatchObject({ items: 30, alerts: 30, undecodable: 0 });
      const bytesOf = new Map(alerts.map((a) => [a.candid, sha(a.bytes)]));
      for (const [i, name] of NAMES.entries()) {
        expect([...passed[i]!.keys()].sort(), name).toEqual(expected[i]);
        for (const [candid, digest] of passed[i]!) expect(digest).toBe(bytesOf.get(candid));
      }
      expectCounts(report.filters);
    } finally {
      await judge.close();
    }
  });

  it('zads filter --filter my_filter.py: batch listing beside a TypeScript filter', () => {
    const r = runZads(['filter', '--from', SAMPLE_TARBALL, '--filter', PURITY_PY, '--filter', 'bright', '--list', '--json', '--python', venvPython(), '--python-workers', '2']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { filter: string; candid: string });
    expect(rows.filter((x) => x.filter === 'purity').map((x) => x.candid).sort()).toEqual(expected[0]);
    expect(rows.filter((x) => x.filter === 'bright').map((x) => x.candid).sort()).toEqual(expected[1]);
    expect(r.stderr).toContain(`purity 1.0.0: ${expected[0]!.length} of 30 alert(s) passed, 0 error(s), 0 timeout(s)`);
  });

  it('zads filter refuses a Python module of the wrong shape before consuming anything, naming file and line', () => {
    const r = runZads(['filter', '--from', SAMPLE_TARBALL, '--filter', 'bright', '--filter', py('syntax_error.py'), '--list', '--python', venvPython()]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${py('syntax_error.py')}:2: SyntaxError`);
    expect(r.stdout).toBe('');
  });

  it('zads filter --filter my_filter.py: stream mode until SIGTERM', async () => {
    const night = await freshNight(uw, { night: '20240112', partitions: 2, messages: alertMessages(alerts) });
    const run = backgroundZads(['filter', '--brokers', UW_BROKERS.join(','), '--topics', night.pattern.source, '--filter', PURITY_PY, '--name', `clipy-${night.programid}`, '--python', venvPython()]);
    const out = await readTopic(uw, `${night.topic}_purity`, expected[0]!.length, { withCandid: true });
    expect(out.map((r) => r.candid).sort()).toEqual(expected[0]);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.exit;
    expect(code).toBe(0);
    expect(stdout).toContain(`purity 1.0.0: ${expected[0]!.length} of 30 alert(s) passed, 0 error(s), 0 timeout(s); ${expected[0]!.length} record(s) written`);
  });
});
