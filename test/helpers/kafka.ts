import { createHash, randomUUID } from 'node:crypto';
import type { KafkaClient as Kafka, KafkaMessage } from '../../src/kafka/index.ts';
import { decodePayload } from '../../src/alert/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import type { ClusterConfig } from '../../src/config/index.ts';
import { createKafka } from '../../src/kafka/index.ts';

export function cluster(brokers: string[]): ClusterConfig {
  return clusterSchema.parse({ brokers, clientId: 'zads-test' });
}

export function kafkaFor(brokers: string[]): Kafka {
  return createKafka(cluster(brokers));
}

/** A nightly topic name no other test uses: a real-looking date and a random program id. */
export function uniqueNightTopic(night = '20240101'): { topic: string; programid: number; pattern: RegExp } {
  const programid = 100_000 + Math.floor(Math.random() * 1_000_000_000);
  return { topic: `ztf_${night}_programid${programid}`, programid, pattern: new RegExp(`^ztf_\\d{8}_programid${programid}$`) };
}

export interface ReadRecord {
  partition: number;
  offset: string;
  message: KafkaMessage;
  /** SHA-256 of the value; with `digestOnly` the value itself is dropped to keep memory small. */
  valueSha256: string;
  /** The candid of the (first) alert in the value, with `withCandid`. */
  candid?: string;
}

/**
 * Reads a topic from the beginning with a read-committed consumer until `count` records have arrived
 * (or `timeoutMs` passes), then keeps listening `settleMs` more to catch any extra (duplicate) record.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  options: { timeoutMs?: number; settleMs?: number; digestOnly?: boolean; withCandid?: boolean } = {},
): Promise<ReadRecord[]> {
  await waitForTopic(kafka, topic, options.timeoutMs ?? 120_000);
  const consumer = kafka.consumer({ groupId: `zads-test-read-${randomUUID()}`, readUncommitted: false, maxBytesPerPartition: 8 * 1024 * 1024 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => {
      reached = resolve;
    });
    await consumer.run({
      
      eachMessage: async ({ partition, message }) => {
        const valueSha256 = createHash('sha256').update(message.value ?? Buffer.alloc(0)).digest('hex');
        const candid = options.withCandid ? (await decodePayload(message.value!))[0]!.alert.candid.toString() : undefined;
        if (options.digestOnly) message.value = null;
        records.push({ partition, offset: message.offset, message, valueSha256, candid });
        if (records.length >= count) reached();
      },
    });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, options.timeoutMs ?? 120_000));
    await Promise.race([enough, timeout]);
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 1500));
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Waits until the topic exists with leaders for all its partitions (e.g. created by the mirror). */
export async function waitForTopic(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await admin.listTopics()).includes(topic)) {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        if (meta?.[0]?.partitions.every((p) => p.leader >= 0)) return;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} did not appear within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Records grouped by partition, in offset order. */
export function byPartition(records: ReadRecord[]): Map<number, ReadRecord[]> {
  const out = new Map<number, ReadRecord[]>();
  for (const r of records) {
    const list = out.get(r.partition) ?? [];
    list.push(r);
    out.set(r.partition, list);
  }
  for (const list of out.values()) list.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return out;
}
