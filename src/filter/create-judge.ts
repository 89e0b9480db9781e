import { InProcessJudge } from './judge.ts';
import type { Judge } from './judge.ts';
import { IsolatedJudge } from './isolated/isolated-judge.ts';
import type { IsolatedJudgeOptions } from './isolated/isolated-judge.ts';
import { loadFilters } from './load.ts';
import { MixedJudge } from './mixed-judge.ts';
import { PythonJudge, isPythonSpec } from './python/python-judge.ts';
import type { PythonJudgeOptions } from './python/options.ts';

/** Where filters run: in this thread, or in a worker thread that a stuck filter cannot stop. */
export type Isolation = 'none' | 'worker';

export interface CreateJudgeOptions extends IsolatedJudgeOptions {
  /** Where TypeScript filters run. Default "worker". Python filters always run in their own processes. */
  isolation?: Isolation;
  /** Python filters (`.py` modules): the interpreter, the number of host processes, batching. */
  python?: Omit<PythonJudgeOptions, 'timeoutMs' | 'hangMs' | 'cwd' | 'logger' | 'metrics'>;
}

async function typescriptJudge(specs: readonly string[], options: CreateJudgeOptions): Promise<Judge> {
  if ((options.isolation ?? 'worker') === 'worker') return IsolatedJudge.start(specs, options);
  const loaded = await loadFilters(specs, { cwd: options.cwd });
  return new InProcessJudge(loaded.map((l) => l.filter), options);
}

/**
 * A judge for filters given as predefined names, TypeScript modules or Python modules (`.py`, defining
 * `alert_filter(alert)`), in any mix; verdicts and counts keep the order given. TypeScript filters run
 * in a worker thread ("worker", the default), which survives any filter, or in this thread ("none");
 * Python filters run in supervised host processes. Either way a module that does not load, or is not a
 * filter, is reported here, naming the file (and for Python the line), before anything is judged.
 */
export async function createJudge(specs: readonly string[], options: CreateJudgeOptions = {}): Promise<Judge> {
  const python = specs.map(isPythonSpec);
  const pySpecs = specs.filter((_, i) => python[i]);
  const tsSpecs = specs.filter((_, i) => !python[i]);
  if (pySpecs.length === 0) return typescriptJudge(specs, options);
  const startPython = (): Promise<PythonJudge> =>
    PythonJudge.start(pySpecs, { ...options.python, timeoutMs: options.timeoutMs, hangMs: options.hangMs, cwd: options.cwd, logger: options.logger, metrics: options.metrics });
  if (tsSpecs.length === 0) return startPython();
  const ts = await typescriptJudge(tsSpecs, options);
  let py: PythonJudge;
  try {
    py = await startPython();
  } catch (err) {
    await ts.close();
    throw err;
  }
  try {
    return new MixedJudge(ts, py, python);
  } catch (err) {
    await Promise.allSettled([ts.close(), py.close()]);
    throw err;
  }
}
