import { spawnSync } from 'node:child_process';
import { DEFAULT_PYTHON } from '../../src/filter/python/python-judge.ts';

let checked: string | undefined;

/**
 * The project's Python (the virtual environment `bash ops/python-env.sh` makes, or $ZADS_PYTHON), with
 * fastavro. Fails — never skips — when it is missing, saying how to make it.
 */
export function venvPython(): string {
  const python = process.env.ZADS_PYTHON ?? DEFAULT_PYTHON;
  if (checked === python) return python;
  const probe = spawnSync(python, ['-c', 'import fastavro'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`the project's Python with fastavro is needed at ${python}: run "bash ops/python-env.sh" (npm test's pretest and .ci/run do). ${probe.error?.message ?? probe.stderr.trim()}`);
  }
  checked = python;
  return python;
}
