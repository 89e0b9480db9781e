import { ALERT_SUMMARY_FIELDS } from '../../archive/index.ts';

/**
 * The fields of the alert rows the query routes answer with (light curves, cone search, time windows):
 * the catalogue's alert summaries (AlertSummary).
 */
export const ROW_FIELDS = ALERT_SUMMARY_FIELDS;

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
