import type { Admin } from 'kafkajs';

/**
 * Where the mirror stands in each source partition: the next source offset to copy. The truth is in
 * the target cluster — the offsets committed for the mirror's group inside the same transactions as
 * the records — and this map only caches it.
 */
export class MirrorPositions {
  readonly #admin: Admin;
  readonly #groupId: string;
  readonly #next = new Map<string, bigint>();

  constructor(targetAdmin: Admin, groupId: string) {
    this.#admin = targetAdmin;
    this.#groupId = groupId;
  }

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** The next offset to copy, read from the target the first time a topic is seen (0 when never mirrored). */
  async next(topic: string, partition: number): Promise<bigint> {
    const key = MirrorPositions.key(topic, partition);
    const known = this.#next.get(key);
    if (known !== undefined) return known;
    const [found] = await this.#admin.fetchOffsets({ groupId: this.#groupId, topics: [topic] });
    for (const p of found?.partitions ?? []) {
      const offset = BigInt(p.offset);
      this.#next.set(MirrorPositions.key(topic, p.partition), offset < 0n ? 0n : offset);
    }
    if (!this.#next.has(key)) this.#next.set(key, 0n);
    return this.#next.get(key)!;
  }

  /** Records a position after its transaction committed. */
  advance(topic: string, partition: number, next: bigint): void {
    this.#next.set(MirrorPositions.key(topic, partition), next);
  }

  /** Forgets cached positions, so the next read goes to the target (after a failed transaction). */
  forget(topic: string, partition: number): void {
    this.#next.delete(MirrorPositions.key(topic, partition));
  }
}
