import type { Archive, ArrivalRow } from '../archive/index.ts';
import { nightTopicName } from '../kafka/index.ts';
import type { ReplaySelection } from './options.ts';
import { jdToMs as jdMs } from '../alert/index.ts';

/** One archived alert as a replay sends it. */
export type ReplayItem = ArrivalRow;

/** Where a replay stands in the archive's order: the last (arrival, candid) sent. */
export interface ArchiveCursor {
  arrivalMs: number;
  candid: string;
}

/** jd → whole epoch milliseconds. */
export function jdToMs(jd: number): number {
  return Math.round(jdMs(jd));
}

/**
 * Hand-off point with the live topic: the next offset the archive has for each partition of the night's
 * topic. Archive rows at or past it are left to the live part, so nothing is sent twice.
 */
export function handOffPositions(archive: Archive, sel: ReplaySelection): Map<number, bigint> {
  return archive.catalogue.topicPositions(nightTopicName(sel.night, sel.programid));
}

/**
 * The selected alerts of an archived night in their original arrival order (ties by candid), after a
 * cursor, streamed from the catalogue. With `before`, Kafka-sourced rows at or past a partition's
 * hand-off offset are left out.
 */
export function* archivedItems(archive: Archive, sel: ReplaySelection, after?: ArchiveCursor, before?: Map<number, bigint>): Generator<ReplayItem> {
  const nightTopic = nightTopicName(sel.night, sel.programid);
  const from = after && { arrivalMs: after.arrivalMs, candid: BigInt(after.candid) };
  for (const item of archive.catalogue.alertsByArrival(sel, from)) {
    if (before && item.topic === nightTopic && item.partition !== null && item.kafkaOffset !== null) {
      const limit = before.get(item.partition);
      if (limit !== undefined && item.kafkaOffset >= limit) continue;
    }
    yield item;
  }
}
