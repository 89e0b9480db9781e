import { createHash, randomUUID } from 'node:crypto';
import { onTestFinished } from 'vitest';
import type { Admin, KafkaClient as Kafka, KafkaMessage } from '../../src/kafka/index.ts';
import { decodePayload } from '../../src/alert/index.ts';
import { clusterSchema } from '../../src/config/index.ts';
import type { ClusterConfig } from '../../src/config/index.ts';
import { createKafka, deleteTopics, ensureTopic } from '../../src/kafka/index.ts';
import { waitFor } from './wait.ts';

/*
 * Kafka for tests, in the habit of platformatic/kafka's test/helpers.ts: every client is made for one
 * call and disconnected after it, topic and group names are new each run, and what a test creates it
 * has deleted when it ends (`onTestFinished`), so each test runs alone or in any order.
 */

export function cluster(brokers: string[]): ClusterConfig {
  return clusterSchema.parse({ brokers, clientId: 'zads-test' });
}

export function kafkaFor(brokers: string[]): Kafka {
  return createKafka(cluster(brokers));
}

export interface UniqueNightTopic {
  topic: string;
  programid: number;
  /** Every night's topic of this program id (`ztf_<any date>_programid<programid>`), as the runners take it. */
  pattern: RegExp;
}

/** A nightly topic name no other test uses: a real-looking date and a random program id. */
export function uniqueNightTopic(night = '20240101'): UniqueNightTopic {
  const programid = 100_000 + Math.floor(Math.random() * 1_000_000_000);
  return { topic: `ztf_${night}_programid${programid}`, programid, pattern: new RegExp(`^ztf_\\d{8}_programid${programid}$`) };
}

/** Runs `use` with an admin client connected for it alone. */
export async function withAdmin<T>(kafka: Kafka, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A message to produce: what `producer.send` takes. */
export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  partition?: number;
  headers?: Record<string, string | Buffer>;
}

/** Sends the messages in order with an idempotent producer made for this call, and waits for their acks. */
export async function produce(kafka: Kafka, topic: string, messages: OutgoingMessage[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Creates each topic (if missing) with `partitions` partitions and sends it `messages`. */
export async function topicsHolding(kafka: Kafka, topics: readonly string[], messages: OutgoingMessage[], partitions: number): Promise<void> {
  for (const topic of topics) {
    await ensureTopic(kafka, { topic, partitions });
    await produce(kafka, topic, messages);
  }
}

/** The high watermark of each partition, in partition order: it moves with every record written. */
export async function endOffsets(kafka: Kafka, topic: string): Promise<string[]> {
  return withAdmin(kafka, async (admin) => (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => p.high));
}

/**
 * Sum over partitions of the high watermark (read_uncommitted): 0 means nothing was ever written to the
 * topic, not even a transaction that was aborted later.
 */
export async function recordsIn(kafka: Kafka, topic: string): Promise<number> {
  return (await endOffsets(kafka, topic)).reduce((n, high) => n + Number(high), 0);
}

/**
 * Deletes, when the current test ends, every topic of the program id: its nightly topics and the ones
 * named after them (`<topic>_<filter>`, `<topic>_replay`). Only a test may call it (not a beforeAll).
 */
export function deleteProgramTopicsAfterTest(kafka: Kafka, programid: number): void {
  const ours = new RegExp(`^ztf_\\d{8}_programid${programid}(_.+)?$`);
  onTestFinished(async () => {
    const topics = await withAdmin(kafka, (admin) => admin.listTopics());
    await deleteTopics(kafka, topics.filter((t) => ours.test(t)));
  });
}

/**
 * A nightly topic no other test uses, created with `partitions` partitions and holding `messages`
 * (none by default). It, the program's other nights and every topic named after them are deleted when
 * the current test ends.
 */
export async function freshNight(
  kafka: Kafka,
  options: { night?: string; partitions: number; messages?: OutgoingMessage[] },
): Promise<UniqueNightTopic> {
  const night = uniqueNightTopic(options.night);
  deleteProgramTopicsAfterTest(kafka, night.programid);
  await ensureTopic(kafka, { topic: night.topic, partitions: options.partitions });
  if (options.messages?.length) await produce(kafka, night.topic, options.messages);
  return night;
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
  await withAdmin(kafka, (admin) =>
    waitFor(
      `topic ${topic} with a leader for each partition`,
      async () => {
        if (!(await admin.listTopics()).includes(topic)) return false;
        const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
        return meta?.[0]?.partitions.every((p) => p.leader >= 0) ?? false;
      },
      { timeoutMs, intervalMs: 200 },
    ),
  );
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
