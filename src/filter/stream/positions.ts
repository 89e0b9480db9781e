import type { Admin } from 'kafkajs';

/**
 * Where the runner stands in each input partition: the next offset to judge. The truth is the offset
 * committed for the runner's group inside the same transactions as its output records; this map only
 * caches it. After a failed transaction the cache is dropped and read back, so records whose
 * transaction did commit (an ambiguous failure) are not written again.
 */
export class GroupPositions {
  readonly #admin: Admin;
  readonly #groupId: string;
  readonly #next = new Map<string, bigint>();

  constructor(admin: Admin, groupId: string) {
    this.#admin = admin;
    this.#groupId = groupId;
  }

  static #key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** The next offset to judge; read from the group's committed offsets the first time (0 when none). */
  async next(topic: string, partition: number): Promise<bigint> {
    const key = GroupPositions.#key(topic, partition);
    const known = this.#next.get(key);
    if (known !== undefined) return known;
    const [found] = await this.#admin.fetchOffsets({ groupId: this.#groupId, topics: [topic] });
    for (const p of found?.partitions ?? []) {
      const offset = BigInt(p.offset);
      this.#next.set(GroupPositions.#key(topic, p.partition), offset < 0n ? 0n : offset);
    }
    if (!this.#next.has(key)) this.#next.set(key, 0n);
    return this.#next.get(key)!;
  }

  /** Records a position after its transaction committed. */
  advance(topic: string, partition: number, next: bigint): void {
    this.#next.set(GroupPositions.#key(topic, partition), next);
  }

  /** Forgets a cached position, so the next read goes to the cluster. */
  forget(topic: string, partition: number): void {
    this.#next.delete(GroupPositions.#key(topic, partition));
  }
}
