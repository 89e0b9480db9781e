import type { Statements } from './statements.ts';
import type { AlertRow, SegmentUse } from './types.ts';

type Row = Record<string, unknown>;

export function segmentUse(s: Statements, night: string, programid: number): SegmentUse[] {
  const sql = 'SELECT segment, count(*) AS n, max(byte_offset + byte_length) AS end FROM alerts WHERE night = ? AND programid = ? GROUP BY segment ORDER BY segment';
  return (s.get(sql).all(night, programid) as Row[]).map((r) => ({ segment: r.segment as string, alerts: Number(r.n), endByte: Number(r.end) }));
}

export function* alertsEndingPast(s: Statements, night: string, programid: number, segment: string, endByte: number): Generator<Pick<AlertRow, 'candid' | 'byteOffset' | 'byteLength'>> {
  const sql = 'SELECT candid, byte_offset, byte_length FROM alerts WHERE night = ? AND programid = ? AND segment = ? AND byte_offset + byte_length > ? ORDER BY candid';
  for (const r of s.iterable(sql).iterate(night, programid, segment, endByte) as Iterable<Row>) {
    yield { candid: BigInt(r.candid as bigint), byteOffset: Number(r.byte_offset), byteLength: Number(r.byte_length) };
  }
}

/** A set of candids kept in a temporary table of the catalogue's connection, not in memory. */
export interface CandidSet {
  /** Adds a candid; false when it was there already. */
  add(candid: bigint): boolean;
  /** The alerts of a night not in the set, in candid order. */
  missingOfNight(night: string, programid: number): Generator<bigint>;
  /** Empties the set. */
  clear(): void;
}

/** An empty CandidSet. There is one per connection: opening it again empties it. */
export function candidSet(s: Statements): CandidSet {
  s.exec('CREATE TEMP TABLE IF NOT EXISTS verify_seen (candid INTEGER PRIMARY KEY); DELETE FROM temp.verify_seen');
  const add = s.get('INSERT OR IGNORE INTO temp.verify_seen (candid) VALUES (?)');
  const missing = 'SELECT candid FROM alerts WHERE night = ? AND programid = ? AND candid NOT IN (SELECT candid FROM temp.verify_seen) ORDER BY candid';
  return {
    add: (candid) => add.run(candid).changes > 0,
    *missingOfNight(night, programid) {
      for (const r of s.iterable(missing).iterate(night, programid) as Iterable<Row>) yield BigInt(r.candid as bigint);
    },
    clear: () => s.exec('DELETE FROM temp.verify_seen'),
  };
}
