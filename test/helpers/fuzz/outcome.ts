import { decodePayload } from '../../../src/alert/index.ts';
import type { ZtfAlert } from '../../../src/alert/index.ts';
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
export type Outcome =
  | { kind: 'alerts'; count: number; candids: string[]; problems: string[] }
  | { kind: 'error'; zads: boolean; name: string; code: string | undefined; message: string; bytePosition: number | undefined; stack: string | undefined };

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

/** Decodes one message value as the archive does; the outcome never throws. */
export async function decodeOutcome(bytes: Buffer, lookup?: [number, unknown][]): Promise<Outcome> {
  const known = lookup ? new Map(lookup) : undefined;
  try {
    const alerts = await decodePayload(bytes, { schemaLookup: known ? (id) => known.get(id) : undefined });
    return {
      kind: 'alerts',
      count: alerts.length,
      candids: alerts.map((a) => String(a.alert.candid)),
      problems: alerts.flatMap((a, i) => alertProblems(a.alert).map((p) => `alert ${i}: ${p}`)),
    };
  } catch (err) {
    return outcomeOfError(err);
  }
}

/** Problems of an outcome under the codec's contract: a usable alert, or a ZadsError with a code and a reason. */
export function contractViolations(o: Outcome, inputLength: number): string[] {
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
