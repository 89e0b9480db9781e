import type { Statements } from './statements.ts';
import type { AlertSummary, JdCandid, LocatedAlert, NightWindow, SkyBox } from './types.ts';

/**
 * The summary columns in ALERT_SUMMARY_FIELDS order, for raw statements (read without safe integers):
 * the candid as text (it does not fit a double), every other integer small enough to be a number.
 */
function summaryColumns(table = ''): string {
  const columns = ['object_id', 'night', 'programid', 'jd', 'ra', 'dec', 'fid', 'magpsf', 'sigmapsf', 'rb', 'drb', 'schema_version'];
  return [`CAST(${table}candid AS TEXT)`, ...columns.map((c) => `${table}${c}`)].join(', ');
}

const SUMMARY_COLUMNS = summaryColumns();
const LOCATED_COLUMNS = 'candid, night, programid, jd, kafka_timestamp, segment, byte_offset, byte_length';

const OBJECT_SUMMARIES_SQL = `SELECT ${SUMMARY_COLUMNS} FROM alerts WHERE object_id = ? ORDER BY jd, candid`;
const OBJECT_LOCATIONS_SQL = `SELECT ${LOCATED_COLUMNS} FROM alerts WHERE object_id = ? ORDER BY jd, candid`;

// Rows from the R*Tree's boxes: the caller decides by exact distance.
const IN_BOX_SQL = `SELECT ${summaryColumns('a.')}
  FROM alerts_sky s JOIN alerts a ON a.candid = s.candid
  WHERE s.ra_max >= @raMin AND s.ra_min <= @raMax AND s.dec_max >= @decMin AND s.dec_min <= @decMax`;

/** A row of SUMMARY_COLUMNS read as an array. */
function fromRaw(r: unknown[]): AlertSummary {
  return {
    candid: r[0] as string,
    objectId: r[1] as string,
    night: r[2] as string,
    programid: r[3] as number,
    jd: r[4] as number,
    ra: r[5] as number,
    dec: r[6] as number,
    fid: r[7] as number,
    magpsf: r[8] as number | null,
    sigmapsf: r[9] as number | null,
    rb: r[10] as number | null,
    drb: r[11] as number | null,
    schemaVersion: r[12] as string,
  };
}

function toLocated(r: Record<string, unknown>): LocatedAlert {
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

/**
 * Every alert of an object across all nights, in time order (jd, then candid). The hottest query of the
 * API: rows come back as arrays, with the candid as text and the other integers as numbers, so no object
 * or BigInt is made per column.
 */
export function objectSummaries(s: Statements, objectId: string): AlertSummary[] {
  return (s.get(OBJECT_SUMMARIES_SQL, { raw: true }).all(objectId) as unknown[][]).map(fromRaw);
}

export function objectLocations(s: Statements, objectId: string): LocatedAlert[] {
  return (s.get(OBJECT_LOCATIONS_SQL).all(objectId) as Record<string, unknown>[]).map(toLocated);
}

/**
 * The SQL of a page of a window, in (jd, candid) order after a position. The index on
 * (night, programid, jd) — candid being the rowid — gives that order, so a page costs its own rows only,
 * however deep into the night it is.
 */
function pageSql(columns: string, w: NightWindow, after: boolean): string {
  const where = ['night = @night', 'programid = @programid'];
  if (w.fromJd !== undefined) where.push('jd >= @fromJd');
  if (w.toJd !== undefined) where.push('jd < @toJd');
  if (w.fid !== undefined) where.push('fid = @fid');
  if (after) where.push('(jd, candid) > (@afterJd, @afterCandid)');
  return `SELECT ${columns} FROM alerts WHERE ${where.join(' AND ')} ORDER BY jd, candid LIMIT @limit`;
}

function pageParams(w: NightWindow, after: JdCandid | undefined, limit: number): Record<string, unknown> {
  const p: Record<string, unknown> = { night: w.night, programid: w.programid, limit };
  if (w.fromJd !== undefined) p.fromJd = w.fromJd;
  if (w.toJd !== undefined) p.toJd = w.toJd;
  if (w.fid !== undefined) p.fid = w.fid;
  if (after) {
    p.afterJd = after.jd;
    p.afterCandid = after.candid;
  }
  return p;
}

export function windowSummaries(s: Statements, w: NightWindow, after: JdCandid | undefined, limit: number): AlertSummary[] {
  return (s.get(pageSql(SUMMARY_COLUMNS, w, after !== undefined), { raw: true }).all(pageParams(w, after, limit)) as unknown[][]).map(fromRaw);
}

export function windowLocations(s: Statements, w: NightWindow, after: JdCandid | undefined, limit: number): LocatedAlert[] {
  return (s.get(pageSql(LOCATED_COLUMNS, w, after !== undefined)).all(pageParams(w, after, limit)) as Record<string, unknown>[]).map(toLocated);
}

export function windowHasAlerts(s: Statements, w: NightWindow): boolean {
  return s.get(pageSql('1', w, false)).get(pageParams(w, undefined, 1)) !== undefined;
}

export function alertsInBox(s: Statements, box: SkyBox): AlertSummary[] {
  return (s.get(IN_BOX_SQL, { raw: true }).all(box) as unknown[][]).map(fromRaw);
}
