import type { ReplayFilterReport } from './filtered-source.ts';
import { LatencyHistogram } from '../latency.ts';
import type { LatencySummary } from '../latency.ts';

/** A replay's measurements: what was asked and what was achieved. */
export interface ReplayReport {
  id: string;
  topic: string;
  state: 'running' | 'paused' | 'done' | 'cancelled' | 'failed';
  /** Alerts sent by this run (a resumed replay counts from its resume). */
  sent: number;
  /** Alerts sent in total, including runs before a resume. */
  sentTotal: number;
  fromArchive: number;
  fromLive: number;
  bytes: number;
  seconds: number;
  requestedRate: number | null;
  achievedRate: number;
  /** How late messages went compared to their due time, ms (p50/p99/max). */
  pacingErrorMs: LatencySummary;
  /** Due time → committed on the target, per message, ms. */
  publishLatencyMs: LatencySummary;
  transactions: number;
  error?: string;
  /** With filters: alerts judged, passed (re-published) and failed, and what each filter did. */
  filter?: ReplayFilterReport;
}

/** Collects a replay's numbers as it runs. */
export class ReplayMeasure {
  readonly #pacing = new LatencyHistogram();
  readonly #publish = new LatencyHistogram();
  /** When sending began (set by start(); the construction time until then). */
  startedMs = Date.now();
  sent = 0;
  fromArchive = 0;
  fromLive = 0;
  bytes = 0;
  transactions = 0;

  /** Marks the start of sending, after connecting and reading the checkpoint: rates count from here. */
  start(): void {
    this.startedMs = Date.now();
  }

  /** One message went out `lateMs` after its due time and was committed `publishMs` after it. */
  record(lateMs: number, publishMs: number, bytes: number, live: boolean): void {
    this.#pacing.record(lateMs);
    this.#publish.record(publishMs);
    this.sent++;
    this.bytes += bytes;
    if (live) this.fromLive++;
    else this.fromArchive++;
  }

  report(base: Pick<ReplayReport, 'id' | 'topic' | 'state' | 'requestedRate' | 'error'> & { sentBefore: number }): ReplayReport {
    const seconds = (Date.now() - this.startedMs) / 1000;
    return {
      id: base.id,
      topic: base.topic,
      state: base.state,
      sent: this.sent,
      sentTotal: base.sentBefore + this.sent,
      fromArchive: this.fromArchive,
      fromLive: this.fromLive,
      bytes: this.bytes,
      seconds,
      requestedRate: base.requestedRate,
      achievedRate: seconds > 0 ? this.sent / seconds : 0,
      pacingErrorMs: this.#pacing.summary(),
      publishLatencyMs: this.#publish.summary(),
      transactions: this.transactions,
      ...(base.error ? { error: base.error } : {}),
    };
  }
}
