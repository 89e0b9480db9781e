import type { AlertSource, ZtfAlert } from '../alert/index.ts';

/** What a filter gets beside the alert. */
export interface FilterContext {
  /** Where the alert came from: topic, partition and offset in stream mode; file (and member) in batch mode. */
  readonly source: AlertSource;
  /**
   * Aborted when the call's time is up (the runner's `timeoutMs`). An async filter that waits on
   * something (a fetch, a database) should pass it on, so the work stops with the call.
   */
  readonly signal: AbortSignal;
}

/**
 * A filter plug-in: a module's default export (or its export named `filter`). It must not change the
 * alert — alerts are frozen before filters see them, and several filters share one decode.
 */
export interface AlertFilter {
  /** Names the filter's output topic (`<topic>_<name>`): 1-64 of A-Z, a-z, 0-9, ".", "_", "-". */
  readonly name: string;
  /** The filter's own version, e.g. "1.0.0"; written into each output record's headers. */
  readonly version: string;
  /**
   * true passes the alert. A call that throws, rejects, returns anything but a boolean, or answers
   * after the timeout does not pass it, and is counted against the filter.
   */
  test(alert: ZtfAlert, ctx: FilterContext): boolean | Promise<boolean>;
}

/** A filter as loaded, with the spec it was loaded from (a predefined name or a module path). */
export interface LoadedFilter {
  filter: AlertFilter;
  /** "purity", or the absolute path of the module. */
  spec: string;
}

/** What one filter has done since the runner started. */
export interface FilterStats {
  name: string;
  version: string;
  /** Alerts given to the filter. */
  tested: number;
  passed: number;
  /** Answered false in time. */
  rejected: number;
  /** Threw, rejected, or returned something other than a boolean. */
  errors: number;
  /** Did not answer within the timeout (a synchronous call that took longer counts too). */
  timeouts: number;
  /** The latest error's message. */
  lastError?: string;
  /** Time spent inside synchronous calls, in ms (async waits not included). */
  busyMs: number;
}
