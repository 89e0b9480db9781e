import type { Admin, ITopicMetadata, Kafka } from 'kafkajs';
import { ZadsError } from '../errors.ts';

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

/** What a broker answers about a topic whose creation has not reached its metadata yet. */
const TOPIC_NOT_READY = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Waits until every partition of the topics has a leader, and returns their metadata. On a cluster of
 * several brokers a topic just created reaches each broker's metadata a moment after the controller
 * accepted it; a broker asked before answers UNKNOWN_TOPIC_OR_PARTITION, which kafkajs neither waits out in
 * `createTopics({ waitForLeaders: true })` (it retries LEADER_NOT_AVAILABLE only) nor in
 * `fetchTopicMetadata` — and each of those asks a broker at random, so one good answer does not make the
 * next one good: use the metadata returned here.
 */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = DEFAULT_TOPIC_READY_TIMEOUT_MS): Promise<ITopicMetadata[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return meta.topics;
    } catch (cause) {
      const type = (cause as { type?: string }).type ?? (cause as { cause?: { type?: string } }).cause?.type;
      if (!TOPIC_NOT_READY.has(type ?? '')) throw cause;
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
 * Creates the topic if it is missing and waits until its leaders are known; returns its partition
 * count (the existing one, if it was there already).
 */
export async function ensureTopic(kafka: Kafka, options: EnsureTopicOptions): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(options.topic)) {
      const configs = { ...DEFAULT_TOPIC_CONFIGS, ...options.configs };
      try {
        await admin.createTopics({
          waitForLeaders: false,
          topics: [
            {
              topic: options.topic,
              numPartitions: options.partitions,
              replicationFactor: options.replicationFactor ?? -1,
              configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
            },
          ],
        });
      } catch (cause) {
        // Another process may have created it between our list and create; that is fine.
        const type = (cause as { type?: string }).type;
        if (type !== 'TOPIC_ALREADY_EXISTS') {
          throw new ZadsError('SERVICE_UNAVAILABLE', `cannot create topic ${options.topic}: ${(cause as Error).message}`, {
            cause,
            context: { topic: options.topic },
          });
        }
      }
    }
    const [meta] = await waitForLeaders(admin, [options.topic]);
    return meta!.partitions.length;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics, ignoring ones already gone. */
export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
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
