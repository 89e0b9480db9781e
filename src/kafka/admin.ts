import { ZadsError } from '../errors.ts';
import type { Admin, KafkaClient } from './client.ts';
import { RDKAFKA_CODES } from './client.ts';
import { kafkaError, rdCode } from './errors.ts';

export interface EnsureTopicOptions {
  topic: string;
  /** Partitions of a topic created here; an existing topic keeps its own. */
  partitions: number;
  /** Replication factor of a topic created here; -1 takes the broker default. */
  replicationFactor?: number;
  /** Topic configs, e.g. { 'max.message.bytes': '10485760' }. */
  configs?: Record<string, string>;
}

/** How long a new topic may take to have a leader for every partition, in ms. */
export const DEFAULT_TOPIC_READY_TIMEOUT_MS = 30_000;

export interface TopicMetadata {
  name: string;
  partitions: { partitionId: number; leader: number }[];
}

/** What a broker answers about a topic whose creation has not reached its metadata yet. */
const TOPIC_NOT_READY = new Set([RDKAFKA_CODES.ERR_UNKNOWN_TOPIC_OR_PART, RDKAFKA_CODES.ERR_LEADER_NOT_AVAILABLE, RDKAFKA_CODES.ERR__UNKNOWN_TOPIC]);

/**
 * Waits until every partition of the topics has a leader, and returns their metadata. On a cluster of
 * several brokers a topic just created reaches each broker's metadata a moment after the controller
 * accepted it; a broker asked before answers UNKNOWN_TOPIC_OR_PARTITION, and the next broker asked may
 * not know it yet even after one good answer: use the metadata returned here.
 */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = DEFAULT_TOPIC_READY_TIMEOUT_MS): Promise<TopicMetadata[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return meta;
    } catch (cause) {
      if (!TOPIC_NOT_READY.has(rdCode(cause) ?? 0)) throw kafkaError(cause, { doing: `read the metadata of ${topics.join(', ')}`, topic: topics.join(',') });
    }
    if (Date.now() > deadline) {
      throw new ZadsError('SERVICE_UNAVAILABLE', `topic ${topics.join(', ')} has partitions without a leader ${timeoutMs} ms after its creation`, {
        context: { topic: topics.join(',') },
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** ZTF messages reach ~200 KB; leave room for multi-alert containers. */
export const DEFAULT_TOPIC_CONFIGS: Record<string, string> = { 'max.message.bytes': '16777216' };

/**
 * Creates the topics that are missing (each with its partitions and configs); an existing topic is left as
 * it is, and one another process creates at the same moment is fine. Waits until all have leaders.
 */
export async function createTopicsIfMissing(
  admin: Admin,
  topics: { topic: string; partitions: number; replicationFactor?: number; configs?: Record<string, string> }[],
): Promise<TopicMetadata[]> {
  if (topics.length === 0) return [];
  const existing = new Set(await admin.listTopics());
  const create = topics.filter((t) => !existing.has(t.topic));
  for (const t of create) {
    try {
      await admin.createTopics({
        topics: [
          {
            topic: t.topic,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor ?? -1,
            configEntries: Object.entries({ ...DEFAULT_TOPIC_CONFIGS, ...t.configs }).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    } catch (cause) {
      // Another process may have created it between our list and create; that is fine.
      if (rdCode(cause) !== RDKAFKA_CODES.ERR_TOPIC_ALREADY_EXISTS && !/already exists/i.test((cause as Error).message)) {
        throw kafkaError(cause, { doing: `create topic ${t.topic}`, topic: t.topic });
      }
    }
  }
  return waitForLeaders(
    admin,
    topics.map((t) => t.topic),
  );
}

/**
 * Creates the topic if it is missing and waits until its leaders are known; returns its partition
 * count (the existing one, if it was there already).
 */
export async function ensureTopic(kafka: KafkaClient, options: EnsureTopicOptions): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [meta] = await createTopicsIfMissing(admin, [{ topic: options.topic, partitions: options.partitions, replicationFactor: options.replicationFactor, configs: options.configs }]);
    return meta!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/** Grows a topic to `count` partitions (librdkafka's own admin: the KafkaJS-style one has no CreatePartitions). */
export async function growPartitions(kafka: KafkaClient, topic: string, count: number): Promise<void> {
  const raw = kafka.rawAdmin();
  try {
    await new Promise<void>((resolve, reject) => raw.createPartitions(topic, count, 30_000, (err) => (err ? reject(err) : resolve())));
  } catch (cause) {
    throw kafkaError(cause, { doing: `grow topic ${topic} to ${count} partitions`, topic });
  } finally {
    raw.disconnect();
  }
}

/** Deletes topics, ignoring ones already gone. */
export async function deleteTopics(kafka: KafkaClient, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

/** The sum of the high watermarks (read_committed: the last stable offset) of a topic's partitions; 0 for a missing topic. */
export async function topicEndOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  const ends = await admin.fetchTopicOffsets(topic, { isolationLevel: 1 as never });
  for (const p of ends) out.set(p.partition, BigInt(p.high));
  return out;
}
