import type { Pacing } from './options.ts';

/**
 * When each message of a replay is due, from absolute times fixed at the start: errors do not add up,
 * and a slow moment is caught up by sending what is due at once.
 */
export class Pacer {
  readonly #pacing: Pacing;
  readonly #startMs: number;
  #firstArrivalMs: number | undefined;
  #burstJd: number | undefined;
  #burstStartIndex = 0;

  constructor(pacing: Pacing, startMs: number) {
    this.#pacing = pacing;
    this.#startMs = startMs;
  }

  /** Due time (epoch ms) of the `index`-th message of this run (0-based), with its jd and arrival time. */
  dueAt(index: number, jd: number, arrivalMs: number): number {
    const p = this.#pacing;
    switch (p.mode) {
      case 'max':
        return this.#startMs;
      case 'rate': {
        if (!p.bursts) return this.#startMs + (index * 1000) / p.alertsPerSec;
        // An exposure is the alerts sharing a jd: all go when its first would have gone.
        if (this.#burstJd !== jd) {
          this.#burstJd = jd;
          this.#burstStartIndex = index;
        }
        return this.#startMs + (this.#burstStartIndex * 1000) / p.alertsPerSec;
      }
      case 'speed':
        this.#firstArrivalMs ??= arrivalMs;
        return this.#startMs + Math.max(0, arrivalMs - this.#firstArrivalMs) / p.factor;
    }
  }
}
