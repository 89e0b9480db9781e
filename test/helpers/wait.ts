/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** Give up after this long, in ms. Default 60 s. */
  timeoutMs?: number;
  /** How often `done` is asked, in ms. Default 100. */
  intervalMs?: number;
}

/**
 * Polls `done` until it answers true. Past the deadline it throws "timed out after N ms waiting for
 * <what>": `what` names the awaited state, so a failing test says which step never came.
 */
export async function waitFor(what: string, done: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 100);
  }
}
