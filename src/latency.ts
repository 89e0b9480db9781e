import * as hdr from 'hdr-histogram-js';

/** Percentiles of a latency, in whole milliseconds, and how many were recorded. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

/**
 * Latencies in an HDR histogram (hdr-histogram-js, 3 significant digits: exact up to 2 s, within 0.1 %
 * beyond), in whole ms: memory stays small whatever the count, and the maximum is the exact one recorded
 * rather than the upper end of its bucket.
 */
export class LatencyHistogram {
  readonly #h = hdr.build({ bitBucketSize: 64, autoResize: true, numberOfSignificantValueDigits: 3 });
  #max = 0;

  get count(): number {
    return this.#h.totalCount;
  }

  /** One latency, in ms; negative ones count as 0. */
  record(ms: number): void {
    const value = Math.max(0, Math.round(ms));
    if (value > this.#max) this.#max = value;
    this.#h.recordValue(value);
  }

  /** Nearest-rank percentiles; all zero before the first latency. */
  summary(): LatencySummary {
    return { p50: this.#h.getValueAtPercentile(50), p99: this.#h.getValueAtPercentile(99), max: this.#max, count: this.#h.totalCount };
  }
}
