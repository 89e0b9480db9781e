import type { AlertSource } from '../alert/index.ts';
import { isUndecodable } from '../filter/index.ts';
import type { FilterStats, Judge } from '../filter/index.ts';
import type { ReplayItem } from './source.ts';

/** One archived alert with its exact bytes, as the replay sends it. */
export interface SourcedAlert {
  item: ReplayItem;
  value: Buffer;
}

/** What a replay's filters did: shown in its report. */
export interface ReplayFilterReport {
  /** The filters, in order; an alert is re-published when it passes any of them. */
  names: string[];
  /** Alerts given to the filters. */
  judged: number;
  /** Alerts that passed (re-published, unless the replay stopped first). */
  passed: number;
  /** Alerts that passed none of the filters (rejected, or a filter failed or timed out on them). */
  failed: number;
  /** Messages that did not decode: not re-published. */
  undecodable: number;
  /** Per filter: tested, passed, rejected, errors, timeouts. */
  filters: FilterStats[];
}

/** Alerts judged ahead of the one being sent, at most: filters run side by side while the replay paces. */
export const DEFAULT_FILTER_WINDOW = 64;

/** The counts a replay keeps for its filters (a snapshot of them is {@link ReplayFilterReport}). */
export class ReplayFilterCounts {
  readonly judge: Judge;
  judged = 0;
  passed = 0;
  failed = 0;
  undecodable = 0;

  constructor(judge: Judge) {
    this.judge = judge;
  }

  report(): ReplayFilterReport {
    return {
      names: this.judge.filters.map((f) => f.name),
      judged: this.judged,
      passed: this.passed,
      failed: this.failed,
      undecodable: this.undecodable,
      filters: this.judge.stats,
    };
  }

  /** Does the message pass any filter? Counts it. A judge that cannot go on (not bad bytes) rejects. */
  async passes(value: Buffer, source: AlertSource, candid?: bigint): Promise<boolean> {
    try {
      const verdict = await this.judge.judge(value, source, { candid });
      const pass = verdict.passed.some((alerts) => alerts.length > 0);
      this.judged += verdict.alerts.length;
      if (pass) this.passed++;
      else this.failed += verdict.alerts.length;
      return pass;
    } catch (err) {
      if (!isUndecodable(err)) throw err;
      this.undecodable++;
      return false;
    }
  }
}

/** The archive's alerts with their bytes, read as the replay goes. */
export async function* archivedAlerts(items: Iterable<ReplayItem>, read: (item: ReplayItem) => Promise<Buffer>): AsyncGenerator<SourcedAlert> {
  for (const item of items) yield { item, value: await read(item) };
}

/**
 * Only the alerts of `source` that pass the filters, in the source's order. Up to `window` alerts are
 * judged ahead, side by side (Python hosts judge them in batches), so the filters cost little more
 * than their own work; memory stays bounded by the window.
 */
export async function* filteredAlerts(source: AsyncIterable<SourcedAlert>, counts: ReplayFilterCounts, window = DEFAULT_FILTER_WINDOW): AsyncGenerator<SourcedAlert> {
  const ahead: { alert: SourcedAlert; pass: Promise<boolean> }[] = [];
  try {
    for await (const alert of source) {
      const { item } = alert;
      const pass = counts.passes(alert.value, { topic: item.topic ?? undefined, partition: item.partition ?? undefined, offset: item.kafkaOffset?.toString() }, item.candid);
      pass.catch(() => undefined); // thrown where it is awaited, in order; not unhandled meanwhile
      ahead.push({ alert, pass });
      if (ahead.length >= window) {
        const next = ahead.shift()!;
        if (await next.pass) yield next.alert;
      }
    }
    while (ahead.length > 0) {
      const next = ahead.shift()!;
      if (await next.pass) yield next.alert;
    }
  } finally {
    // Stopped early (cancel, maxAlerts): let the verdicts in flight settle before the caller closes the judge.
    await Promise.allSettled(ahead.map((a) => a.pass));
  }
}
