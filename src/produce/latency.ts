import { Rng } from './rng.ts';

/** Percentiles of send latency, in milliseconds. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

/** Samples kept for percentiles: enough for a stable p99, small whatever the night's length. */
export const DEFAULT_RESERVOIR_SIZE = 8192;

/**
 * Send latencies over a bounded reservoir (Vitter's algorithm R): every batch has the same chance of
 * being in the sample, memory stays fixed, and the maximum is exact. A fixed seed keeps it reproducible.
 */
export class LatencyReservoir {
  readonly #capacity: number;
  readonly #samples: number[] = [];
  readonly #rng = new Rng(0x5eed);
  #seen = 0;
  #max = 0;

  constructor(capacity = DEFAULT_RESERVOIR_SIZE) {
    this.#capacity = capacity;
  }

  get count(): number {
    return this.#seen;
  }

  record(ms: number): void {
    this.#seen++;
    if (ms > this.#max) this.#max = ms;
    if (this.#samples.length < this.#capacity) {
      this.#samples.push(ms);
    } else {
      const j = this.#rng.int(this.#seen);
      if (j < this.#capacity) this.#samples[j] = ms;
    }
  }

  /** Nearest-rank percentiles; all zero before the first sample. */
  summary(): LatencySummary {
    if (this.#samples.length === 0) return { p50: 0, p99: 0, max: 0 };
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
    return { p50: at(0.5), p99: at(0.99), max: this.#max };
  }
}
