import type { AlertSource } from '../alert/index.ts';
import { isUndecodable } from './judge.ts';
import type { AlertRef, ItemVerdict, Judge, JudgeOptions } from './judge.ts';
import type { PythonJudge } from './python/python-judge.ts';
import type { FilterId } from './tally.ts';
import type { FilterStats } from './types.ts';
import { ZadsError } from '../errors.ts';

/**
 * TypeScript and Python filters in one run, in the order they were given: the TypeScript judge decodes
 * and judges first — it alone decides whether the bytes are an alert, as it does without Python — then
 * the Python hosts judge the same bytes. Verdicts are merged back into filter order.
 */
export class MixedJudge implements Judge {
  readonly filters: readonly FilterId[];
  readonly #ts: Judge;
  readonly #py: PythonJudge;
  /** Per filter in run order: which judge has it, and its index there. */
  readonly #where: { python: boolean; index: number }[];

  /** `python[i]` says whether the i-th filter (in run order) is a Python one. */
  constructor(ts: Judge, py: PythonJudge, python: readonly boolean[]) {
    this.#ts = ts;
    this.#py = py;
    let t = 0;
    let p = 0;
    this.#where = python.map((isPy) => (isPy ? { python: true, index: p++ } : { python: false, index: t++ }));
    if (t !== ts.filters.length || p !== py.filters.length) throw new ZadsError('INTERNAL', 'mixed judge: filter counts do not match');
    this.filters = this.#where.map((w) => (w.python ? py.filters[w.index]! : ts.filters[w.index]!));
    const names = this.filters.map((f) => f.name);
    const twin = names.find((n, i) => names.indexOf(n) !== i);
    if (twin !== undefined) {
      throw new ZadsError('CONFIG_INVALID', `two filters are named ${JSON.stringify(twin)}; names must differ, as each names an output`, { context: { key: 'filter' } });
    }
  }

  get stats(): FilterStats[] {
    const ts = this.#ts.stats;
    const py = this.#py.stats;
    return this.#where.map((w) => (w.python ? py[w.index]! : ts[w.index]!));
  }

  async judge(bytes: Buffer, source: AlertSource, options: JudgeOptions = {}): Promise<ItemVerdict> {
    const ts = await this.#ts.judge(bytes, source, options);
    let py: ItemVerdict;
    try {
      py = await this.#py.judge(bytes, source, options);
    } catch (err) {
      if (!isUndecodable(err)) throw err;
      // The runner's codec read it, fastavro did not: the Python filters fail these alerts, counted.
      this.#py.countUndecoded(ts.alerts.length, `fastavro cannot decode the message: ${(err as Error).message}`);
      py = { alerts: ts.alerts, passed: this.#py.filters.map(() => []) };
    }
    const byCandid = new Map<bigint, AlertRef>(ts.alerts.map((a) => [a.candid, a]));
    const passed = this.#where.map((w) => (w.python ? py.passed[w.index]!.map((a) => byCandid.get(a.candid) ?? a) : ts.passed[w.index]!));
    return { alerts: ts.alerts, passed };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#ts.close(), this.#py.close()]);
  }
}
