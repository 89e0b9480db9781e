import { CATALOGUE_CANDIDATE_FIELDS, decodeCatalogueFields, decodePayload } from '../../../src/alert/index.ts';
import type { CatalogueAlert, DecodedAlert, ZtfAlert } from '../../../src/alert/index.ts';
import { ERROR_CODES, ZadsError } from '../../../src/errors.ts';

/* What a decode came to, as facts that cross a process, and the codec's contract over them. */

/** Why a decoded record is no usable alert (empty: it is one): what the catalogue files it under. */
export function alertProblems(alert: ZtfAlert): string[] {
  const problems: string[] = [];
  if (typeof alert.objectId !== 'string' || alert.objectId.length === 0) problems.push(`objectId is ${typeof alert.objectId}`);
  if (typeof alert.candid !== 'bigint') problems.push(`candid is ${typeof alert.candid}`);
  const c = alert.candidate as Record<string, unknown> | null;
  if (c === null || typeof c !== 'object') return [...problems, 'candidate is not a record'];
  for (const k of ['jd', 'ra', 'dec', 'fid']) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k])) problems.push(`candidate.${k} is ${String(c[k])}`);
  }
  if (!Number.isInteger(c.fid)) problems.push('candidate.fid is not an integer');
  return problems;
}

/** A decode's result as facts that cross a thread: the alerts' problems, or the error as thrown. */
export type Outcome = (
  | { kind: 'alerts'; count: number; candids: string[]; problems: string[] }
  | { kind: 'error'; zads: boolean; name: string; code: string | undefined; message: string; bytePosition: number | undefined; stack: string | undefined }
) & {
  /** How the archive's reader (decodeCatalogueFields) disagreed with the full decode, if it did. */
  catalogueMismatch?: string;
};

/** What the decoder thread says when the worker could not answer. */
export type Lost = { kind: 'hung'; message: string } | { kind: 'crashed'; message: string };

export function outcomeOfError(err: unknown): Outcome {
  const e = err as Partial<ZadsError> & { name?: string };
  return {
    kind: 'error',
    zads: err instanceof ZadsError,
    name: String(e?.name ?? typeof err),
    code: err instanceof ZadsError ? err.code : undefined,
    message: String(e?.message ?? err),
    bytePosition: err instanceof ZadsError ? err.context.bytePosition : undefined,
    stack: err instanceof ZadsError ? undefined : e?.stack,
  };
}

type Settled<T> = { ok: true; value: T } | { ok: false; err: unknown };

async function settle<T>(f: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, err };
  }
}

/** What the catalogue files an alert under, as text that compares NaN and -0 as they are. */
function catalogueFields(a: CatalogueAlert): string {
  const c = a.candidate as Record<string, unknown>;
  return [a.objectId, String(a.candid), ...CATALOGUE_CANDIDATE_FIELDS.map((k) => (Object.is(c[k], -0) ? '-0' : String(c[k])))].join(' ');
}

/** Where the archive's reader of the catalogue fields and the full decode part ways; undefined when they agree. */
function mismatch(full: Settled<DecodedAlert[]>, fast: Settled<DecodedAlert<CatalogueAlert>[]>): string | undefined {
  if (full.ok && fast.ok) {
    const a = full.value.map((d) => catalogueFields(d.alert)).join('\n');
    const b = fast.value.map((d) => catalogueFields(d.alert)).join('\n');
    return a === b ? undefined : `catalogue fields differ: full decode [${a}], archive's reader [${b}]`;
  }
  if (!full.ok && !fast.ok) {
    const [a, b] = [outcomeOfError(full.err), outcomeOfError(fast.err)] as Extract<Outcome, { kind: 'error' }>[];
    return a!.code === b!.code && a!.message === b!.message ? undefined : `errors differ: full decode ${a!.code} "${a!.message}", archive's reader ${b!.code} "${b!.message}"`;
  }
  const reason = (s: Settled<unknown>) => (s.ok ? '' : String((s.err as Error)?.message ?? s.err));
  return full.ok ? `the archive's reader refused what the full decode accepts: ${reason(fast)}` : `the archive's reader accepted what the full decode refuses (${reason(full)})`;
}

/**
 * Decodes one message value in full, and as the archive does (decodeCatalogueFields: the catalogue's
 * fields only), saying where the two disagree; the outcome never throws.
 */
export async function decodeOutcome(bytes: Buffer, lookup?: [number, unknown][]): Promise<Outcome> {
  const known = lookup ? new Map(lookup) : undefined;
  const options = { schemaLookup: known ? (id: number) => known.get(id) : undefined };
  const full = await settle(() => decodePayload(bytes, options));
  const fast = await settle(() => decodeCatalogueFields(bytes, options));
  const outcome: Outcome = full.ok
    ? {
        kind: 'alerts',
        count: full.value.length,
        candids: full.value.map((a) => String(a.alert.candid)),
        problems: full.value.flatMap((a, i) => alertProblems(a.alert).map((p) => `alert ${i}: ${p}`)),
      }
    : outcomeOfError(full.err);
  const differs = mismatch(full, fast);
  return differs ? { ...outcome, catalogueMismatch: differs } : outcome;
}

/** Problems of an outcome under the codec's contract: a usable alert, or a ZadsError with a code and a reason. */
export function contractViolations(o: Outcome, inputLength: number): string[] {
  if (o.catalogueMismatch) return [o.catalogueMismatch];
  if (o.kind === 'alerts') {
    if (o.count === 0) return ['decoded to no alert and no error'];
    return o.problems;
  }
  const out: string[] = [];
  if (!o.zads) return [`threw ${o.name} (not a ZadsError): ${o.message}\n${o.stack ?? ''}`];
  if (!o.code || !(o.code in ERROR_CODES)) out.push(`code ${o.code} is not in the closed list`);
  if (o.code === 'INTERNAL') out.push(`INTERNAL: ${o.message}`);
  if (o.message.trim().length === 0) out.push('no reason given');
  if (o.bytePosition !== undefined && !(o.bytePosition >= 0 && o.bytePosition <= inputLength)) {
    out.push(`bytePosition ${o.bytePosition} is outside the ${inputLength} bytes`);
  }
  return out;
}
