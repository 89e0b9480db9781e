import type { AlertSource, ZtfAlert } from '../alert/index.ts';
import { ZadsError } from '../errors.ts';
import { deepFreeze } from './freeze.ts';
import type { AlertFilter, FilterContext } from './types.ts';

/** Options of a {@link FilterSet}. */
export interface FilterSetOptions {
  /**
   * Longest a filter may take over one alert, in ms. An answer after it does not pass the alert and
   * counts as a timeout. Default 1000. In-process, a synchronous call cannot be interrupted: one that
   * is merely slow counts as a timeout when it returns; one that never returns stops the process unless
   * the filters run isolated in a worker thread (see `createJudge`).
   */
  timeoutMs?: number;
  /** Freeze each alert before the filters see it, so none can change it for the others. Default true. */
  freezeAlerts?: boolean;
}

export const DEFAULT_FILTER_TIMEOUT_MS = 1000;

/** What became of one filter call. "skipped": not called (its call on this alert hung a worker before). */
export type Outcome = 'passed' | 'rejected' | 'error' | 'timeout' | 'skipped';

/** Every filter's outcome on one alert, in filter order. */
export interface Evaluation {
  outcomes: Outcome[];
  /** The error message of each call that failed. */
  errors: (string | undefined)[];
  /** Time inside each synchronous call, in ms. */
  busyMs: number[];
}

export interface RunOptions {
  /** Filters (by index) not to call on this alert. */
  skip?: ReadonlySet<number>;
  /** Told the index of each filter as its synchronous call starts, and −1 when it returns. */
  onCall?: (index: number) => void;
}

const TIMED_OUT = Symbol('timed out');

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs several filters over one alert and contains each call: a filter that throws, rejects, answers
 * something other than a boolean, or answers after `timeoutMs` gets an "error" or "timeout" outcome,
 * and the others go on. Async calls run side by side, so a hung one holds the alert `timeoutMs` at most.
 * It counts nothing itself: a {@link FilterTally} does.
 */
export class FilterSet {
  readonly filters: readonly AlertFilter[];
  readonly timeoutMs: number;
  readonly #freeze: boolean;

  constructor(filters: readonly AlertFilter[], options: FilterSetOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_FILTER_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ZadsError('CONFIG_INVALID', `filter option timeoutMs must be a positive number of ms, not ${timeoutMs}`, { context: { key: 'timeoutMs' } });
    }
    if (filters.length === 0) throw new ZadsError('CONFIG_INVALID', 'a filter set needs at least one filter', { context: { key: 'filters' } });
    this.filters = [...filters];
    this.timeoutMs = timeoutMs;
    this.#freeze = options.freezeAlerts ?? true;
  }

  /** Every filter's outcome on one alert; never throws because of a filter. */
  async run(alert: ZtfAlert, source: AlertSource, options: RunOptions = {}): Promise<Evaluation> {
    if (this.#freeze) deepFreeze(alert);
    const n = this.filters.length;
    const result: Evaluation = { outcomes: new Array<Outcome>(n).fill('skipped'), errors: new Array<string | undefined>(n), busyMs: new Array<number>(n).fill(0) };
    let controller: AbortController | undefined;
    // The signal is made only if a filter asks for it: most filters never do.
    const ctx: FilterContext = {
      source,
      get signal() {
        controller ??= new AbortController();
        return controller.signal;
      },
    };
    let waiting: { index: number; answer: PromiseLike<unknown> }[] | undefined;
    for (let i = 0; i < n; i++) {
      if (options.skip?.has(i)) continue;
      options.onCall?.(i);
      const started = performance.now();
      let answer: unknown;
      try {
        answer = this.filters[i]!.test(alert, ctx);
      } catch (err) {
        this.#fail(result, i, err);
        continue;
      } finally {
        result.busyMs[i] = performance.now() - started;
        options.onCall?.(-1);
      }
      if (isThenable(answer)) (waiting ??= []).push({ index: i, answer });
      else if (result.busyMs[i]! > this.timeoutMs) result.outcomes[i] = 'timeout';
      else this.#answer(result, i, answer);
    }
    if (!waiting) return result;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.timeoutMs, TIMED_OUT);
    });
    let late = false;
    await Promise.all(
      waiting.map(async ({ index, answer }) => {
        try {
          const settled = await Promise.race([answer, expired]);
          if (settled === TIMED_OUT) {
            late = true;
            result.outcomes[index] = 'timeout';
          } else {
            this.#answer(result, index, settled);
          }
        } catch (err) {
          this.#fail(result, index, err);
        }
      }),
    );
    clearTimeout(timer);
    if (late) controller?.abort(new ZadsError('TIMEOUT', `filter call timed out after ${this.timeoutMs} ms`));
    return result;
  }

  #answer(result: Evaluation, index: number, answer: unknown): void {
    if (typeof answer === 'boolean') result.outcomes[index] = answer ? 'passed' : 'rejected';
    else this.#fail(result, index, new TypeError(`returned ${answer === null ? 'null' : typeof answer}, not a boolean`));
  }

  #fail(result: Evaluation, index: number, err: unknown): void {
    result.outcomes[index] = 'error';
    result.errors[index] = err instanceof Error ? err.message : String(err);
  }
}
