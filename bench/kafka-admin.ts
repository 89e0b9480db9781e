/** Scratch topics and groups for the Kafka stages, through our client's admin. */
import { randomUUID } from 'node:crypto';
import { clusterSchema } from '../src/config/index.ts';
import { createKafka, createTopicsIfMissing } from '../src/kafka/index.ts';
import type { Admin } from '../src/kafka/index.ts';
import type { BenchContext } from './harness.ts';

export interface ScratchTopic {
  topic: string;
  partitions: number;
  /** Deletes the topic; idempotent, and also run when the run ends. */
  drop(): Promise<void>;
}

async function withAdmin<T>(bootstrap: string, use: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = createKafka(clusterSchema.parse({ brokers: [bootstrap], clientId: 'zads-bench', connectionTimeoutMs: 5000 }));
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `Kafka at ${bootstrap} does not answer (${(err as Error).message}); start it with "bash ops/services.sh start"`,
      { cause: err },
    );
  }
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A new topic with a unique name; its deletion is registered with the run. */
export async function createScratchTopic(ctx: BenchContext, prefix: string, partitions: number): Promise<ScratchTopic> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  await withAdmin(ctx.kafkaBootstrap, (admin) =>
    createTopicsIfMissing(admin, [{ topic, partitions, replicationFactor: 1 }]),
  );
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= withAdmin(ctx.kafkaBootstrap, (admin) => admin.deleteTopics({ topics: [topic], timeout: 30_000 }));
    return dropping;
  };
  ctx.defer(`delete topic ${topic}`, drop);
  return { topic, partitions, drop };
}

/**
 * A unique group id (a consumer group, or a Connect worker group); the group is deleted when the run ends,
 * from `bootstrap` (default: the stages' cluster).
 */
export function scratchGroup(ctx: BenchContext, prefix: string, bootstrap = ctx.kafkaBootstrap): string {
  const group = `${prefix}-${randomUUID().slice(0, 8)}`;
  ctx.defer(`delete group ${group}`, () =>
    withAdmin(bootstrap, async (admin) => {
      try {
        await admin.deleteGroups([group]);
      } catch (err) {
        // A group with no committed offsets is gone once its last member leaves: nothing to delete.
        if (!isGroupNotFound(err)) throw err;
      }
    }),
  );
  return group;
}

function isGroupNotFound(err: unknown): boolean {
  // librdkafka: ERR_GROUP_ID_NOT_FOUND (69), per group in the error's `groups`, or on the error itself.
  const groups = (err as { groups?: { error?: { code?: number } }[] }).groups;
  if (Array.isArray(groups)) return groups.every((g) => g.error?.code === 69);
  return (err as { code?: number }).code === 69;
}
