import type { Catalogue } from '../../archive/index.ts';
import { prepared } from './prepare.ts';
import { ROW_COLUMNS_FAST, fromRawRow } from './rows.ts';
import type { AlertRowJson } from './rows.ts';

/**
 * Every alert of an object across all nights, in time order (jd, then candid): its light curve. The
 * hottest query of the API: rows come back as arrays, with the candid as text and the other integers as
 * numbers, so no object or BigInt is made per column.
 */
export function objectRows(catalogue: Catalogue, objectId: string): AlertRowJson[] {
  const stmt = prepared(catalogue.db, `SELECT ${ROW_COLUMNS_FAST} FROM alerts WHERE object_id = ? ORDER BY jd, candid`, { raw: true });
  return (stmt.all(objectId) as unknown[][]).map(fromRawRow);
}

/** Where the bytes of each alert of an object are, in time order. */
export function objectLocations(catalogue: Catalogue, objectId: string): LocatedRow[] {
  const stmt = prepared(
    catalogue.db,
    'SELECT candid, night, programid, jd, kafka_timestamp, segment, byte_offset, byte_length FROM alerts WHERE object_id = ? ORDER BY jd, candid',
  );
  return (stmt.all(objectId) as Record<string, unknown>[]).map(toLocated);
}

/** An alert's id, time and where its bytes are: what a subset archive needs of each member. */
export interface LocatedRow {
  candid: bigint;
  night: string;
  programid: number;
  jd: number;
  kafkaTimestamp: number | null;
  segment: string;
  byteOffset: number;
  byteLength: number;
}

export function toLocated(r: Record<string, unknown>): LocatedRow {
  return {
    candid: BigInt(r.candid as bigint),
    night: r.night as string,
    programid: Number(r.programid),
    jd: Number(r.jd),
    kafkaTimestamp: r.kafka_timestamp === null ? null : Number(r.kafka_timestamp),
    segment: r.segment as string,
    byteOffset: Number(r.byte_offset),
    byteLength: Number(r.byte_length),
  };
}
