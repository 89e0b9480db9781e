import type { Admin, Consumer } from '../kafka/index.ts';
import { ZadsError } from '../errors.ts';
import type { ArchiveCursor } from './source.ts';

/** Where a replay stands; committed in the same transaction as the records it covers. */
export interface Checkpoint {
  /** Alerts sent so far (archive and live). */
  sent: number;
  phase: 'archive' | 'live' | 'done';
  /** Last archived alert sent, in arrival order. */
  cursor: ArchiveCursor | null;
  /** The archive's next offset per partition of the night's topic when the replay first started (live hand-off point). */
  handOff: Record<string, string> | null;
  /** Live part: the next offset to send per partition. */
  live: Record<string, string> | null;
}

/** The consumer group on the target whose committed metadata holds a replay's checkpoint. */
export function checkpointGroup(replayId: string): string {
  return `zads-replay-${replayId}`;
}

/*
 * The checkpoint rides in the offset-commit metadata of the replay's own group (partition 0 of the
 * target topic), written with TxnOffsetCommit inside each transaction: records and checkpoint commit
 * together, and a replay killed mid-transaction resumes from the last committed checkpoint with no gap
 * and no duplicate. Kafka keeps up to offset.metadata.max.bytes (4 KiB by default) of metadata.
 */
export function checkpointOffsets(topic: string, cp: Checkpoint): { topic: string; partitions: { partition: number; offset: string; metadata: string }[] }[] {
  const metadata = JSON.stringify(cp);
  if (Buffer.byteLength(metadata) > 4000) {
    throw new ZadsError('INTERNAL', `replay checkpoint is ${Buffer.byteLength(metadata)} bytes, more than Kafka keeps (4 KiB)`, { context: { topic } });
  }
  return [{ topic, partitions: [{ partition: 0, offset: String(cp.sent), metadata }] }];
}

/**
 * The replay's last committed checkpoint, read through `reader` (a consumer of the checkpoint group, connected,
 * never subscribed: consumers read committed offsets as stable ones, and the admin client's fetchOffsets can
 * crash librdkafka when the group's coordinator moves — see src/kafka/engine/group-positions.ts).
 */
export async function readCheckpoint(admin: Admin, reader: Consumer, replayId: string, topic: string): Promise<Checkpoint | undefined> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) return undefined;
  const [p0] = (await reader.committed([{ topic, partition: 0 }], 60_000)) as { offset: string; metadata?: string | null }[];
  if (!p0 || p0.offset === null || Number(p0.offset) < 0 || !p0.metadata) return undefined;
  try {
    return JSON.parse(p0.metadata) as Checkpoint;
  } catch (cause) {
    throw new ZadsError('DATA_MISMATCH', `replay ${replayId}: the checkpoint in group ${checkpointGroup(replayId)} is not readable`, { cause });
  }
}
