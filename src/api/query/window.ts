import type { Catalogue } from '../../archive/index.ts';
import { toLocated } from './object.ts';
import type { LocatedRow } from './object.ts';
import type { PagePosition } from './cursor.ts';
import { prepared } from './prepare.ts';
import { ROW_COLUMNS_FAST, fromRawRow } from './rows.ts';
import type { AlertRowJson } from './rows.ts';

/** Alerts of one night, optionally within [fromJd, toJd) and of one filter (fid). */
export interface NightWindow {
  night: string;
  programid: number;
  fromJd?: number;
  toJd?: number;
  fid?: number;
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

function params(w: NightWindow, after: PagePosition | undefined, limit: number): Record<string, unknown> {
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

/** One page of rows, and whether more follow. */
export function windowPage(catalogue: Catalogue, w: NightWindow, after: PagePosition | undefined, limit: number): { rows: AlertRowJson[]; more: boolean } {
  const raw = prepared(catalogue.db, pageSql(ROW_COLUMNS_FAST, w, after !== undefined), { raw: true }).all(params(w, after, limit + 1)) as unknown[][];
  return { rows: raw.slice(0, limit).map(fromRawRow), more: raw.length > limit };
}

/**
 * Where the bytes of every alert of a window are, in (jd, candid) order, a batch at a time. Each batch is
 * its own short query, so no read transaction stays open for the length of a download.
 */
export function* windowLocations(catalogue: Catalogue, w: NightWindow, batch = 500): Generator<LocatedRow[]> {
  let after: PagePosition | undefined;
  const columns = 'candid, night, programid, jd, kafka_timestamp, segment, byte_offset, byte_length';
  for (;;) {
    const raw = prepared(catalogue.db, pageSql(columns, w, after !== undefined)).all(params(w, after, batch)) as Record<string, unknown>[];
    if (raw.length === 0) return;
    const rows = raw.map(toLocated);
    yield rows;
    if (rows.length < batch) return;
    const last = rows[rows.length - 1]!;
    after = { jd: last.jd, candid: last.candid };
  }
}

/** Whether a window holds any alert (a subset archive answers 404 when none). */
export function windowHasAlerts(catalogue: Catalogue, w: NightWindow): boolean {
  return prepared(catalogue.db, pageSql('1', w, false)).get(params(w, undefined, 1)) !== undefined;
}
