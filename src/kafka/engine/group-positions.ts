import { ZadsError } from '../../errors.ts';
import type { Admin } from '../client.ts';
import { RDKAFKA_CODES } from '../client.ts';
import { kafkaError } from '../errors.ts';

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The committed offsets of a consumer group, read as stable offsets: a transaction still open on them
 * (a process killed mid-commit) is waited out, up to `timeoutMs`, so what is returned is final — it
 * cannot move behind our back when that transaction completes or aborts.
 */
export async function stableGroupOffsets(
  admin: Admin,
  groupId: string,
  partitions: { topic: string; partition: number }[],
  timeoutMs = 60_000,
): Promise<Map<string, bigint | undefined>> {
  const byTopic = new Map<string, number[]>();
  for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let unstable = false;
    const out = new Map<string, bigint | undefined>();
    let found;
    try {
      found = await admin.fetchOffsets({ groupId, topics: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })), requireStableOffsets: true });
    } catch (err) {
      throw kafkaError(err, { doing: `read the committed offsets of group ${groupId}` });
    }
    for (const t of found) {
      for (const p of t.partitions) {
        if (p.error && p.error.code === RDKAFKA_CODES.ERR_UNSTABLE_OFFSET_COMMIT) unstable = true;
        else if (p.error) throw kafkaError(p.error, { doing: `read the committed offset of group ${groupId}`, topic: t.topic, partition: p.partition });
        const offset = BigInt(p.offset);
        out.set(key(t.topic, p.partition), offset < 0n ? undefined : offset);
      }
    }
    if (!unstable) return out;
    if (Date.now() > deadline) {
      throw new ZadsError('KAFKA_TIMEOUT', `group ${groupId} still has a transaction open on its offsets after ${timeoutMs} ms`, { context: { group: groupId } });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
