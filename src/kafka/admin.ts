import type { Kafka } from 'kafkajs';
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
          waitForLeaders: true,
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
    const meta = await admin.fetchTopicMetadata({ topics: [options.topic] });
    return meta.topics[0]!.partitions.length;
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
