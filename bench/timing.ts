import type { BenchContext } from './harness.ts';

export interface RateOptions {
  /** Untimed run first, so the JIT has compiled the hot paths. */
  warmupMs: number;
  /** How long the timed part lasts (it ends at the first batch boundary after it). */
  durationMs: number;
  /** Items one call of `runBatch` processes. */
  batchSize: number;
  /**
   * Processes `batchSize` items; `batch` counts calls from 0 (warm-up included). The stage writes its own
   * inner loop, so that a synchronous baseline pays no `await` per item that it would not pay in real use.
   */
  runBatch: (batch: number) => void | Promise<void>;
  /** For progress lines: "alerts". */
  itemName: string;
}

export interface RateResult {
  items: number;
  seconds: number;
  perSecond: number;
}

/** Runs batches for a warm-up, then for the measured duration; reports items per second of the timed part. */
export async function measureRate(ctx: BenchContext, options: RateOptions): Promise<RateResult> {
  let batch = 0;
  const warmEnd = performance.now() + options.warmupMs;
  while (performance.now() < warmEnd) await options.runBatch(batch++);
  ctx.progress(`warm-up done (${(batch * options.batchSize).toLocaleString('en-US')} ${options.itemName})`, true);

  let items = 0;
  const t0 = performance.now();
  const end = t0 + options.durationMs;
  let now = t0;
  while (now < end) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    await options.runBatch(batch++);
    items += options.batchSize;
    now = performance.now();
    const seconds = (now - t0) / 1000;
    ctx.progress(`${seconds.toFixed(1)} s: ${Math.round(items / seconds).toLocaleString('en-US')} ${options.itemName}/s`);
  }
  const seconds = (now - t0) / 1000;
  return { items, seconds, perSecond: items / seconds };
}

/** Polls `done` every 10 ms until it holds; throws on timeout or when the run is interrupted. */
export async function waitFor(ctx: BenchContext, what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
