/** Scratch topics and groups for the Kafka stages, through kafkajs's admin client. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import type { BenchContext } from './harness.ts';

export interface ScratchTopic {
  topic: string;
  partitions: number;
  /** Deletes the topic; idempotent, and also run when the run ends. */
  drop(): Promise<void>;
}

async function withAdmin<T>(bootstrap: string, use: (admin: Admin) => Promise<T>): Promise<T> {
  const kafka = new Kafka({
    clientId: 'zads-bench',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 3000 },
  });
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
    admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true }),
  );
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= withAdmin(ctx.kafkaBootstrap, (admin) => admin.deleteTopics({ topics: [topic], timeout: 30_000 }));
    return dropping;
  };
  ctx.defer(`delete topic ${topic}`, drop);
  return { topic, partitions, drop };
}

/** A unique consumer group id; the group is deleted when the run ends. */
export function scratchGroup(ctx: BenchContext, prefix: string): string {
  const group = `${prefix}-${randomUUID().slice(0, 8)}`;
  ctx.defer(`delete group ${group}`, () =>
    withAdmin(ctx.kafkaBootstrap, async (admin) => {
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
  const groups = (err as { groups?: { error?: { type?: string } }[] }).groups;
  return Array.isArray(groups) && groups.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND');
}
