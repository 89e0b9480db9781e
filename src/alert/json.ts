import type { DecodedAlert } from './types.ts';

export interface JsonViewOptions {
  /** How `bytes` values (the FITS cutouts) appear: base64 text, or left out. Default 'base64'. */
  bytes?: 'base64' | 'omit';
}

/**
 * A JSON-safe copy of a decoded value: every 64-bit integer (bigint) becomes a decimal string, so
 * candid 2480088313915010007 survives JSON.parse in any language; Buffers become base64 or are dropped.
 */
export function toJsonValue(value: unknown, options: JsonViewOptions = {}): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Buffer.isBuffer(value)) return options.bytes === 'omit' ? undefined : value.toString('base64');
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, options));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const j = toJsonValue(v, options);
      if (j !== undefined) out[k] = j;
    }
    return out;
  }
  return value;
}

/** The one-line summary of an alert that `zads inspect` prints (and `--json` emits). */
export interface AlertSummary {
  candid: string;
  objectId: string;
  jd: number;
  ra: number;
  dec: number;
  magpsf: number;
  fid: number;
  programid: number;
  schemaVersion: string;
  /** The `schemavsn` field of the record, when it has one (it may disagree with schemaVersion). */
  schemavsn?: string;
  prvCandidates: number;
  source: { file?: string; member?: string; topic?: string; partition?: number; offset?: string };
}

export function summarize(decoded: DecodedAlert): AlertSummary {
  const { alert, schema, source } = decoded;
  const c = alert.candidate;
  return {
    candid: alert.candid.toString(),
    objectId: alert.objectId,
    jd: c.jd,
    ra: c.ra,
    dec: c.dec,
    magpsf: c.magpsf,
    fid: c.fid,
    programid: c.programid,
    schemaVersion: schema.version,
    ...(alert.schemavsn === undefined ? {} : { schemavsn: alert.schemavsn }),
    prvCandidates: alert.prv_candidates?.length ?? 0,
    source: { ...source },
  };
}
