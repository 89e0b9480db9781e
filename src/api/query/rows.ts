/**
 * The alert rows the query routes answer with (light curves, cone search, time windows): catalogue
 * columns under camelCase names, the candid as a decimal string (it does not fit a JSON number).
 */
export const ROW_FIELDS = ['candid', 'objectId', 'night', 'programid', 'jd', 'ra', 'dec', 'fid', 'magpsf', 'sigmapsf', 'rb', 'drb', 'schemaVersion'] as const;
export type RowField = (typeof ROW_FIELDS)[number];

export interface AlertRowJson {
  candid: string;
  objectId: string;
  night: string;
  programid: number;
  jd: number;
  ra: number;
  dec: number;
  fid: number;
  magpsf: number | null;
  sigmapsf: number | null;
  rb: number | null;
  drb: number | null;
  schemaVersion: string;
}

/**
 * The catalogue columns of a row, in ROW_FIELDS order, for statements read without safe integers: the
 * candid as text (it does not fit a double), every other integer small enough to be a number.
 */
export const ROW_COLUMNS_FAST = 'CAST(candid AS TEXT), object_id, night, programid, jd, ra, dec, fid, magpsf, sigmapsf, rb, drb, schema_version';

/** A row of ROW_COLUMNS_FAST read as an array. */
export function fromRawRow(r: unknown[]): AlertRowJson {
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

/** Keeps only the asked fields, in the order asked. */
export function pick<T extends object>(row: T, fields: readonly (keyof T)[] | undefined): Partial<T> {
  if (!fields) return row;
  const out: Partial<T> = {};
  for (const f of fields) out[f] = row[f];
  return out;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV: a header line and one line per row, CRLF-terminated. */
export function toCsv(rows: readonly object[], fields: readonly string[]): string {
  const lines = [fields.join(',')];
  for (const r of rows) lines.push(fields.map((f) => csvCell((r as Record<string, unknown>)[f])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
