import type { ReplayFilterReport } from './filtered-source.ts';
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

function summary(h: hdr.Histogram): LatencySummary {
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), max: h.maxValue, count: h.totalCount };
}

function histogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 64, autoResize: true, numberOfSignificantValueDigits: 3 });
}

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
  readonly #pacing = histogram();
  readonly #publish = histogram();
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
    this.#pacing.recordValue(Math.max(0, Math.round(lateMs)));
    this.#publish.recordValue(Math.max(0, Math.round(publishMs)));
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
      pacingErrorMs: summary(this.#pacing),
      publishLatencyMs: summary(this.#publish),
      transactions: this.transactions,
      ...(base.error ? { error: base.error } : {}),
    };
  }
}
