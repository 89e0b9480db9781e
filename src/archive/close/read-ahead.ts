/**
 * Yields `[item, await read(item)]` in the order of `items`, keeping up to `depth` reads running ahead
 * of the consumer: the next alerts' bytes are read from disk (or S3) while the current one is being
 * compressed. Memory holds at most `depth` results. A failed read surfaces when its turn comes.
 */
export async function* readAhead<I, O>(items: Iterable<I>, read: (item: I) => Promise<O>, depth: number): AsyncGenerator<[I, O]> {
  const it = items[Symbol.iterator]();
  const pending: Promise<[I, O]>[] = [];
  let exhausted = false;
  const fill = (): void => {
    while (!exhausted && pending.length < Math.max(1, depth)) {
      const next = it.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const item = next.value;
      const p = read(item).then((out): [I, O] => [item, out]);
      // Observed when its turn comes; without this a failure ahead of the consumer is "unhandled".
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  try {
    fill();
    while (pending.length > 0) {
      const value = await pending.shift()!;
      fill();
      yield value;
    }
  } finally {
    it.return?.(undefined);
  }
}
