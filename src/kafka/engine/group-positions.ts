import { ZadsError } from '../../errors.ts';
import type { Consumer } from '../client.ts';
import { kafkaError } from '../errors.ts';

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The committed offsets of a consumer group, read through `reader`: a consumer of that group, connected
 * and never subscribed. Consumers read committed offsets as stable offsets (read_committed), so a
 * transaction still open on them (a process killed mid-commit) is waited out and what is returned is final.
 *
 * Not the admin client's fetchOffsets: librdkafka 2.x dereferences a missing consumer group in an admin
 * client when the coordinator answers NOT_COORDINATOR (confluent-kafka-javascript#374) — it took a mirror
 * process down with SIGSEGV whenever a broker restart moved the group's coordinator.
 */
export async function stableGroupOffsets(
  reader: Consumer,
  groupId: string,
  partitions: { topic: string; partition: number }[],
  timeoutMs = 60_000,
): Promise<Map<string, bigint | undefined>> {
  const out = new Map<string, bigint | undefined>();
  if (partitions.length === 0) return out;
  let found;
  try {
    found = await reader.committed(
      partitions.map(({ topic, partition }) => ({ topic, partition })),
      timeoutMs,
    );
  } catch (err) {
    throw kafkaError(err, { doing: `read the committed offsets of group ${groupId}` });
  }
  for (const p of found) {
    // A partition the group never committed comes back with no offset (librdkafka's OFFSET_INVALID).
    const raw = p.offset as string | number | null | undefined;
    const offset = raw === null || raw === undefined || raw === '' ? -1n : BigInt(raw);
    out.set(key(p.topic, p.partition), offset < 0n ? undefined : offset);
  }
  for (const p of partitions) {
    if (!out.has(key(p.topic, p.partition))) {
      throw new ZadsError('KAFKA_FAILED', `group ${groupId}: no committed offset returned for ${p.topic}/${p.partition}`, { context: { topic: p.topic, partition: p.partition } });
    }
  }
  return out;
}
