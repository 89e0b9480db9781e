import type { Archive } from '../archive.ts';

/** The tail of each archive's queue of exclusive tasks. */
const tails = new WeakMap<Archive, Promise<unknown>>();

/**
 * Runs tasks that change a night's bulk files (close, upload, prune) one at a time per archive: they
 * share a folder's MD5SUMS and a night's `stored` state. A failed task does not stop the next.
 */
export function exclusive<T>(archive: Archive, task: () => Promise<T>): Promise<T> {
  const before = tails.get(archive) ?? Promise.resolve();
  const next = before.catch(() => undefined).then(task);
  tails.set(archive, next.catch(() => undefined));
  return next;
}
