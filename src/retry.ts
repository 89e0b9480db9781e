import { toZadsError } from './errors.ts';
import type { ZadsError } from './errors.ts';

/*
 * The one backoff of the project: each wait `initialMs · factor^n`, capped at `maxMs`, spread by a random
 * share (jitter) so that many waiters do not retry in step. Only a failure marked retriable is retried;
 * anything else — a bug, an error of unknown origin — is fatal (kafkajs's retrier, platformatic's canRetry).
 */

/** Options of a capped exponential backoff with jitter. */
export interface BackoffOptions {
  /** First wait, in ms. */
  initialMs: number;
  /** Longest wait, in ms. */
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /**
   * Random share of each wait (0..1) so that many waiters do not retry in step; default 0.2. 0 gives the
   * same waits every time, for one process retrying alone (nobody to fall in step with).
   */
  jitter?: number;
}

/** Waits longer after each failure (capped), back to the start after `reset()`. */
export class Backoff {
  readonly #o: Required<BackoffOptions>;
  #attempt = 0;

  constructor(options: BackoffOptions) {
    this.#o = { factor: 2, jitter: 0.2, ...options };
  }

  /** Waits taken since the start or the last `reset()`. */
  get attempts(): number {
    return this.#attempt;
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

export interface RetryOptions extends BackoffOptions {
  /** Tries in all, the first one included. */
  maxAttempts: number;
  /**
   * Called after a retriable failure, before the wait: resolves true when the failed try took effect
   * although its answer was lost (a commit that landed), so it is not tried again.
   */
  landed?: (error: ZadsError, attempt: number) => Promise<boolean>;
  /** Told of each failure that is about to be retried (to log it). */
  onRetry?: (error: ZadsError, attempt: number) => void;
}

/**
 * Runs `step` until it succeeds, waiting with capped backoff between tries. A failure that is not a
 * retriable ZadsError — a bug, anything unknown — is thrown at once, as is the last one when the tries
 * run out; what is thrown is always a ZadsError.
 */
export async function retry(step: (attempt: number) => Promise<void>, options: RetryOptions): Promise<void> {
  const backoff = new Backoff(options);
  for (let attempt = 1; ; attempt++) {
    try {
      await step(attempt);
      return;
    } catch (err) {
      const error = toZadsError(err);
      if (!error.retriable || attempt >= options.maxAttempts) throw error;
      if (await options.landed?.(error, attempt)) return;
      options.onRetry?.(error, attempt);
      await backoff.wait();
    }
  }
}
