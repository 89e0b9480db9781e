import { InProcessJudge } from './judge.ts';
import type { Judge } from './judge.ts';
import { IsolatedJudge } from './isolated/isolated-judge.ts';
import type { IsolatedJudgeOptions } from './isolated/isolated-judge.ts';
import { loadFilters } from './load.ts';

/** Where filters run: in this thread, or in a worker thread that a stuck filter cannot stop. */
export type Isolation = 'none' | 'worker';

export interface CreateJudgeOptions extends IsolatedJudgeOptions {
  /** Default "worker". */
  isolation?: Isolation;
}

/**
 * A judge for filters given as `loadFilters` takes them (predefined names, module paths). "worker"
 * (the default) loads and runs them in a worker thread, which survives any filter; "none" runs them in
 * this thread, a little cheaper, trusting them never to loop. Either way a module that does not load,
 * or is not a filter, is reported here, naming the file.
 */
export async function createJudge(specs: readonly string[], options: CreateJudgeOptions = {}): Promise<Judge> {
  if ((options.isolation ?? 'worker') === 'worker') return IsolatedJudge.start(specs, options);
  const loaded = await loadFilters(specs, { cwd: options.cwd });
  return new InProcessJudge(loaded.map((l) => l.filter), options);
}
