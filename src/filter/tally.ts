import type { Logger } from '../log.ts';
import { counter, createMetricsRegistry } from '../metrics.ts';
import type { Registry } from '../metrics.ts';
import type { Evaluation, Outcome } from './filter-set.ts';
import type { FilterStats } from './types.ts';

/** A filter's identity as the counts show it. */
export interface FilterId {
  name: string;
  version: string;
}

export interface FilterTallyOptions {
  logger?: Logger;
  /** Where `zads_filter_verdicts_total{filter,result}` goes; a private registry when absent. */
  metrics?: Registry;
}

const COUNTED: readonly Exclude<Outcome, 'skipped'>[] = ['passed', 'rejected', 'error', 'timeout'];
const FIELD = { passed: 'passed', rejected: 'rejected', error: 'errors', timeout: 'timeouts' } as const;

/**
 * Counts what each filter did — in its stats, in Prometheus, and in the log (a filter's 1st, 2nd, 4th,
 * 8th… error or timeout is logged, so one failing on every alert does not flood it).
 */
export class FilterTally {
  readonly #stats: FilterStats[];
  readonly #log: Logger | undefined;
  readonly #counts: { inc(n?: number): void }[][];

  constructor(filters: readonly FilterId[], options: FilterTallyOptions = {}) {
    this.#stats = filters.map((f) => ({ name: f.name, version: f.version, tested: 0, passed: 0, rejected: 0, errors: 0, timeouts: 0, busyMs: 0 }));
    this.#log = options.logger?.child({ component: 'filter' });
    const verdicts = counter(options.metrics ?? createMetricsRegistry(), 'zads_filter_verdicts_total', 'Alerts judged, by filter and result (passed, rejected, error, timeout)', ['filter', 'result']);
    // Label children bound once: an inc() per alert and filter then costs no label lookup.
    this.#counts = filters.map((f) => COUNTED.map((result) => verdicts.labels({ filter: f.name, result })));
  }

  /** Per filter, in filter order. */
  get stats(): FilterStats[] {
    return this.#stats.map((s) => ({ ...s }));
  }

  record(evaluation: Evaluation): void {
    for (let i = 0; i < this.#stats.length; i++) {
      const outcome = evaluation.outcomes[i]!;
      if (outcome === 'skipped') continue;
      this.count(i, outcome, evaluation.errors[i]);
      this.#stats[i]!.busyMs += evaluation.busyMs[i]!;
    }
  }

  /** Counts one outcome of filter `index` (one call). */
  count(index: number, outcome: Exclude<Outcome, 'skipped'>, error?: string): void {
    const s = this.#stats[index]!;
    s.tested++;
    const field = FIELD[outcome];
    s[field]++;
    this.#counts[index]![COUNTED.indexOf(outcome)]!.inc();
    if (outcome === 'error') s.lastError = error;
    if (field === 'errors' || field === 'timeouts') {
      const n = s[field];
      if ((n & (n - 1)) === 0) {
        this.#log?.warn(
          { filter: s.name, [field]: n, ...(error ? { err: error } : {}) },
          outcome === 'error' ? 'filter failed on an alert; the alert does not pass it' : 'filter did not answer in time; the alert does not pass it',
        );
      }
    }
  }
}
