import { JD_UNIX_EPOCH } from '../../alert/index.ts';
import type { Statements } from './statements.ts';
import type { ArrivalRow, ArrivalSelection } from './types.ts';

/** The next offset archived of each partition of a topic. */
export function topicPositions(s: Statements, topic: string): Map<number, bigint> {
  const rows = s.get('SELECT partition, next_offset FROM positions WHERE topic = ?').all(topic) as { partition: bigint; next_offset: bigint }[];
  return new Map(rows.map((r) => [Number(r.partition), BigInt(r.next_offset)]));
}

// An alert's arrival: its Kafka timestamp, else its jd as whole epoch milliseconds.
const ARRIVAL = `coalesce(kafka_timestamp, CAST(round((jd - ${JD_UNIX_EPOCH}) * 86400000) AS INTEGER))`;

/**
 * The selected alerts of a night in arrival order (ties by candid), after an arrival and candid when
 * given. Streamed: one row at a time from the database, never the night in memory.
 */
export function* alertsByArrival(s: Statements, sel: ArrivalSelection, after?: Pick<ArrivalRow, 'arrivalMs' | 'candid'>): Generator<ArrivalRow> {
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
  if (after) {
    where.push(`(${ARRIVAL} > @afterArrival OR (${ARRIVAL} = @afterArrival AND candid > @afterCandid))`);
    params.afterArrival = after.arrivalMs;
    params.afterCandid = after.candid;
  }
  const sql = `SELECT candid, object_id, jd, ${ARRIVAL} AS arrival, topic, partition, kafka_offset, segment, byte_offset, byte_length
    FROM alerts WHERE ${where.join(' AND ')} ORDER BY arrival, candid`;
  for (const r of s.iterable(sql).iterate(params) as Iterable<Record<string, unknown>>) {
    yield {
      candid: BigInt(r.candid as bigint),
      objectId: r.object_id as string,
      jd: Number(r.jd),
      arrivalMs: Number(r.arrival),
      topic: (r.topic as string | null) ?? null,
      partition: r.partition === null ? null : Number(r.partition),
      kafkaOffset: r.kafka_offset === null ? null : BigInt(r.kafka_offset as bigint),
      segment: r.segment as string,
      byteOffset: Number(r.byte_offset),
      byteLength: Number(r.byte_length),
    };
  }
}
