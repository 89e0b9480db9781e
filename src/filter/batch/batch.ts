import type { AlertSource } from '../../alert/index.ts';
import type { ZadsError } from '../../errors.ts';
import { toZadsError } from '../../errors.ts';
import { isUndecodable } from '../judge.ts';
import type { AlertRef, Judge } from '../judge.ts';
import type { FilterStats } from '../types.ts';

/** One message or alert file to judge. */
export interface BatchItem {
  source: AlertSource;
  bytes: Buffer;
  /** Judge only this alert of the bytes (an archive row names one alert of its message). */
  candid?: bigint;
}

/** An input that could not be read at all (`readInputs` yields these for missing files). */
export interface BatchReadError {
  source: AlertSource;
  error: ZadsError;
}

/** Where passing items go: a tarball per filter, a listing, … */
export interface BatchSink {
  /** Called, in input order, for each item that passes filter `index`, with its alerts that passed. */
  pass(index: number, item: BatchItem, alerts: AlertRef[]): Promise<void> | void;
}

/** What a batch run did. */
export interface BatchReport {
  /** Items (messages, files, tarball members) read. */
  items: number;
  /** Alerts judged. */
  alerts: number;
  /** Items that did not decode: counted and skipped. */
  undecodable: number;
  /** Inputs that could not be read (missing paths, damaged tarballs). */
  unreadable: number;
  /** Items that passed, per filter name. */
  passed: Record<string, number>;
  filters: FilterStats[];
}

export interface RunBatchOptions {
  /** Runs the filters (see createJudge); left open for the caller to close. */
  judge: Judge;
  inputs: AsyncIterable<BatchItem | BatchReadError>;
  sink: BatchSink;
  /**
   * Items judged side by side, at most. Async filters then wait together: a hung one costs one timeout
   * per window rather than per alert. Items still reach the sink in input order. Default 64.
   */
  concurrency?: number;
  /** Told about each input that could not be read or decoded. */
  onError?: (error: ZadsError) => void;
  /** Called after each item with the counts so far (for progress displays). */
  onProgress?: (report: Readonly<BatchReport>) => void;
}

export const DEFAULT_BATCH_CONCURRENCY = 64;

/**
 * The same filters as the stream runner, over alerts at rest: an archived night, UW tarballs, folders
 * of .avro files. Items pass under the same rule as in stream mode (any of their alerts passes), so on
 * the same alerts both modes give the same result.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchReport> {
  const { judge, sink } = options;
  const names = judge.filters.map((f) => f.name);
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_BATCH_CONCURRENCY);
  const report: BatchReport = { items: 0, alerts: 0, undecodable: 0, unreadable: 0, passed: Object.fromEntries(names.map((n) => [n, 0])), filters: [] };
  const window: { item: BatchItem; judged: Promise<AlertRef[][] | undefined> }[] = [];

  const judgeOne = async (item: BatchItem): Promise<AlertRef[][] | undefined> => {
    try {
      const verdict = await judge.judge(item.bytes, item.source, { candid: item.candid });
      report.alerts += verdict.alerts.length;
      return verdict.passed;
    } catch (err) {
      if (!isUndecodable(err)) throw err;
      report.undecodable++;
      options.onError?.(toZadsError(err, { ...item.source }));
      return undefined;
    }
  };
  const drainOne = async (): Promise<void> => {
    const { item, judged } = window.shift()!;
    const passed = await judged;
    report.items++;
    if (passed) {
      for (let i = 0; i < passed.length; i++) {
        if (passed[i]!.length === 0) continue;
        report.passed[names[i]!]!++;
        await sink.pass(i, item, passed[i]!);
      }
    }
    options.onProgress?.(report);
  };

  for await (const input of options.inputs) {
    if ('error' in input) {
      report.unreadable++;
      options.onError?.(input.error);
      continue;
    }
    const judged = judgeOne(input);
    judged.catch(() => undefined); // a failure is thrown where it is awaited, in order; not unhandled meanwhile
    window.push({ item: input, judged });
    if (window.length >= concurrency) await drainOne();
  }
  while (window.length > 0) await drainOne();
  report.filters = judge.stats;
  return report;
}
