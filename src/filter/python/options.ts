import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_FILTER_TIMEOUT_MS } from '../filter-set.ts';
import type { FilterTallyOptions } from '../tally.ts';
import { parseOptions, positive } from '../../options.ts';

/** Every default of a {@link PythonJudge}'s options. */
export const PYTHON_JUDGE_DEFAULTS = Object.freeze({
  /** The project's virtual environment (made by ops/python-env.sh): `<package root>/.venv/bin/python`. */
  python: fileURLToPath(new URL('../../../.venv/bin/python', import.meta.url)),
  timeoutMs: DEFAULT_FILTER_TIMEOUT_MS,
  maxBatchItems: 64,
  maxBatchBytes: 16 * 1024 * 1024,
  startTimeoutMs: 30_000,
});

/** Options of a {@link PythonJudge}. */
export interface PythonJudgeOptions extends FilterTallyOptions {
  /** The Python interpreter, with fastavro installed. Default {@link PYTHON_JUDGE_DEFAULTS.python}. */
  python?: string;
  /** Host processes judging side by side (a fraction is rounded down). Default: the number of cores, at least 2. */
  workers?: number;
  /**
   * Longest a filter may take over one alert, in ms. A later answer does not pass the alert and counts as
   * a timeout. Default {@link PYTHON_JUDGE_DEFAULTS.timeoutMs}.
   */
  timeoutMs?: number;
  /**
   * A call still running after this long, in ms, is taken as stuck: its host process is killed, the call
   * counted as a timeout, and a new host judges the alerts that were in flight (the stuck filter skipped
   * for that alert). Default: twice `timeoutMs`.
   */
  hangMs?: number;
  /** Base of relative module paths. Default: the process's working folder. */
  cwd?: string;
  /** Most items sent to a host in one round trip (a fraction is rounded down). Default {@link PYTHON_JUDGE_DEFAULTS.maxBatchItems}. */
  maxBatchItems?: number;
  /** Most item bytes sent to a host in one round trip, in bytes. Default {@link PYTHON_JUDGE_DEFAULTS.maxBatchBytes}. */
  maxBatchBytes?: number;
  /** Longest wait for a host to start and load the filters, in ms. Default {@link PYTHON_JUDGE_DEFAULTS.startTimeoutMs}. */
  startTimeoutMs?: number;
}

export type ResolvedPythonJudgeOptions = Required<Omit<PythonJudgeOptions, keyof FilterTallyOptions>> & FilterTallyOptions;

/** The options a Python judge checks, with the defaults filled in. */
const pythonJudgeOptionsSchema = z.object({
  python: z.string().default(PYTHON_JUDGE_DEFAULTS.python),
  workers: positive().default(() => Math.max(2, availableParallelism())),
  timeoutMs: positive().default(PYTHON_JUDGE_DEFAULTS.timeoutMs),
  hangMs: positive().optional(),
  cwd: z.string().default(() => process.cwd()),
  maxBatchItems: positive().default(PYTHON_JUDGE_DEFAULTS.maxBatchItems),
  maxBatchBytes: positive().default(PYTHON_JUDGE_DEFAULTS.maxBatchBytes),
  startTimeoutMs: positive().default(PYTHON_JUDGE_DEFAULTS.startTimeoutMs),
});

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolvePythonJudgeOptions(options: PythonJudgeOptions): ResolvedPythonJudgeOptions {
  const checked = parseOptions('Python filter', pythonJudgeOptionsSchema, options);
  return {
    ...checked,
    workers: Math.floor(checked.workers),
    hangMs: checked.hangMs ?? 2 * checked.timeoutMs,
    maxBatchItems: Math.floor(checked.maxBatchItems),
    logger: options.logger,
    metrics: options.metrics,
  };
}
