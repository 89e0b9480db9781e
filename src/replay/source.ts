import type { Archive } from '../archive/index.ts';
import { nightTopicName } from '../kafka/index.ts';
import type { ReplaySelection } from './options.ts';
import { JD_UNIX_EPOCH, jdToMs as jdMs } from '../alert/index.ts';

/** One archived alert as a replay sends it. */
export interface ReplayItem {
  candid: bigint;
  objectId: string;
  jd: number;
  /** Original arrival time (Kafka timestamp, else the jd as epoch ms), ms. */
  arrivalMs: number;
  topic: string | null;
  partition: number | null;
  kafkaOffset: bigint | null;
  segment: string;
  byteOffset: number;
  byteLength: number;
}

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
  const topic = nightTopicName(sel.night, sel.programid);
  const rows = archive.catalogue.db.prepare('SELECT partition, next_offset FROM positions WHERE topic = ?').all(topic) as { partition: bigint; next_offset: bigint }[];
  return new Map(rows.map((r) => [Number(r.partition), BigInt(r.next_offset)]));
}

/**
 * The selected alerts of an archived night in their original arrival order (ties by candid), after a
 * cursor, streamed from the catalogue. With `before`, Kafka-sourced rows at or past a partition's
 * hand-off offset are left out.
 */
export function* archivedItems(archive: Archive, sel: ReplaySelection, after?: ArchiveCursor, before?: Map<number, bigint>): Generator<ReplayItem> {
  const where: string[] = ['night = @night', 'programid = @programid'];
  const params: Record<string, unknown> = { night: sel.night, programid: sel.programid };
  if (sel.fromJd !== undefined) {
    where.push('jd >= @fromJd');
    params.fromJd = sel.fromJd;
  }
  if (sel.toJd !== undefined) {
    where.push('jd < @toJd');
    params.toJd = sel.toJd;
  }
  if (sel.objectIds && sel.objectIds.length > 0) {
    where.push(`object_id IN (SELECT value FROM json_each(@objects))`);
    params.objects = JSON.stringify(sel.objectIds);
  }
  const arrival = `coalesce(kafka_timestamp, CAST(round((jd - ${JD_UNIX_EPOCH}) * 86400000) AS INTEGER))`;
  if (after) {
    where.push(`(${arrival} > @afterArrival OR (${arrival} = @afterArrival AND candid > @afterCandid))`);
    params.afterArrival = after.arrivalMs;
    params.afterCandid = BigInt(after.candid);
  }
  const sql = `SELECT candid, object_id, jd, ${arrival} AS arrival, topic, partition, kafka_offset, segment, byte_offset, byte_length
    FROM alerts WHERE ${where.join(' AND ')} ORDER BY arrival, candid`;
  const nightTopic = nightTopicName(sel.night, sel.programid);
  for (const r of archive.catalogue.db.prepare(sql).iterate(params) as Iterable<Record<string, unknown>>) {
    const partition = r.partition === null ? null : Number(r.partition);
    const offset = r.kafka_offset === null ? null : BigInt(r.kafka_offset as bigint);
    if (before && r.topic === nightTopic && partition !== null && offset !== null) {
      const limit = before.get(partition);
      if (limit !== undefined && offset >= limit) continue;
    }
    yield {
      candid: BigInt(r.candid as bigint),
      objectId: r.object_id as string,
      jd: Number(r.jd),
      arrivalMs: Number(r.arrival),
      topic: (r.topic as string | null) ?? null,
      partition,
      kafkaOffset: offset,
      segment: r.segment as string,
      byteOffset: Number(r.byte_offset),
      byteLength: Number(r.byte_length),
    };
  }
}
