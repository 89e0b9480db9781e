/** Options of a capped exponential backoff with jitter. */
export interface BackoffOptions {
  /** First wait, in ms. */
  initialMs: number;
  /** Longest wait, in ms. */
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /** Random share of each wait (0..1) so that many waiters do not retry in step; default 0.2. */
  jitter?: number;
}

/** Waits longer after each failure (capped), back to the start after `reset()`. */
export class Backoff {
  readonly #o: Required<BackoffOptions>;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.#o = { factor: 2, jitter: 0.2, ...options };
  }

  /** The next wait, in ms, and counts the attempt. */
  next(): number {
    const base = Math.min(this.#o.maxMs, this.#o.initialMs * this.#o.factor ** this.#attempt++);
    return Math.round(base * (1 - this.#o.jitter + Math.random() * 2 * this.#o.jitter));
  }

  wait(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.next()));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
