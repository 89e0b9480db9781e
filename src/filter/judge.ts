import { decodePayload } from '../alert/index.ts';
import { isZadsError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { AlertSource } from '../alert/index.ts';
import { FilterSet } from './filter-set.ts';
import type { Evaluation, FilterSetOptions, RunOptions } from './filter-set.ts';
import { FilterTally } from './tally.ts';
import type { FilterId, FilterTallyOptions } from './tally.ts';
import type { AlertFilter, FilterStats } from './types.ts';

/** What the outputs need of a judged alert. */
export interface AlertRef {
  candid: bigint;
  objectId: string;
  /** Julian Date of the detection. */
  jd: number;
}

/** The filters' verdict on one message (or file): its alerts and, per filter, those that passed. */
export interface ItemVerdict {
  alerts: AlertRef[];
  /** Per filter (in filter order): the alerts that passed it. Empty: the item does not pass. */
  passed: AlertRef[][];
}

export interface JudgeOptions {
  /** Judge only the alert with this candid (an archive row names one alert of its message). */
  candid?: bigint;
}

/**
 * Decodes messages or alert files and runs the filters over each alert in them, counting what each
 * filter did. In-process ({@link InProcessJudge}) or in a worker thread (`IsolatedJudge`).
 */
export interface Judge {
  readonly filters: readonly FilterId[];
  /** Per filter, in filter order. */
  readonly stats: FilterStats[];
  /**
   * ZTF sends one alert per message; a message holding several passes a filter when any of its alerts
   * does. Rejects with the codec's ZadsError when the bytes do not decode (callers count and skip it).
   */
  judge(bytes: Buffer, source: AlertSource, options?: JudgeOptions): Promise<ItemVerdict>;
  /** Releases what the judge holds (a worker thread); idempotent. */
  close(): Promise<void>;
}

const UNDECODABLE: ReadonlySet<ErrorCode> = new Set([
  'ALERT_NOT_CONTAINER',
  'ALERT_TRUNCATED',
  'ALERT_CORRUPT',
  'ALERT_NOT_ZTF',
  'ALERT_CODEC_UNSUPPORTED',
  'SCHEMA_INVALID',
  'SCHEMA_UNKNOWN',
]);

/**
 * Did `judge()` fail because the bytes are no alert (count and skip the item), rather than because the
 * judge itself cannot go on (a closed or failed worker: the item must not be skipped)?
 */
export function isUndecodable(err: unknown): boolean {
  return isZadsError(err) && UNDECODABLE.has(err.code);
}

/** Decodes one item and runs the filter set over each of its alerts (or the one with `candid`). */
export async function evaluateItem(
  set: FilterSet,
  bytes: Buffer,
  source: AlertSource,
  options: JudgeOptions & RunOptions = {},
): Promise<{ alerts: AlertRef[]; evaluations: Evaluation[] }> {
  let decoded = await decodePayload(bytes, { source });
  if (options.candid !== undefined) {
    const only = decoded.filter((d) => d.alert.candid === options.candid);
    if (only.length > 0) decoded = only;
  }
  const alerts: AlertRef[] = [];
  const evaluations: Evaluation[] = [];
  for (const { alert } of decoded) {
    alerts.push({ candid: alert.candid, objectId: alert.objectId, jd: alert.candidate.jd });
    evaluations.push(await set.run(alert, source, options));
  }
  return { alerts, evaluations };
}

/** The verdict on an item from its alerts' evaluations. */
export function verdictOf(filterCount: number, alerts: AlertRef[], evaluations: readonly Evaluation[]): ItemVerdict {
  const passed = Array.from({ length: filterCount }, (): AlertRef[] => []);
  evaluations.forEach((e, k) => e.outcomes.forEach((o, i) => o === 'passed' && passed[i]!.push(alerts[k]!)));
  return { alerts, passed };
}

/** Runs the filters in this thread: cheapest, but a filter stuck in a synchronous loop stops the process. */
export class InProcessJudge implements Judge {
  readonly filters: readonly FilterId[];
  readonly #set: FilterSet;
  readonly #tally: FilterTally;

  constructor(filters: readonly AlertFilter[], options: FilterSetOptions & FilterTallyOptions = {}) {
    this.#set = new FilterSet(filters, options);
    this.filters = filters.map((f) => ({ name: f.name, version: f.version }));
    this.#tally = new FilterTally(this.filters, options);
  }

  get stats(): FilterStats[] {
    return this.#tally.stats;
  }

  async judge(bytes: Buffer, source: AlertSource, options: JudgeOptions = {}): Promise<ItemVerdict> {
    const { alerts, evaluations } = await evaluateItem(this.#set, bytes, source, options);
    for (const e of evaluations) this.#tally.record(e);
    return verdictOf(this.filters.length, alerts, evaluations);
  }

  async close(): Promise<void> {}
}
