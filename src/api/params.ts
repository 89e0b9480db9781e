import { z } from 'zod';
import { ApiError } from './errors.ts';
import { msToJd } from '../alert/index.ts';

/**
 * The building blocks of the routes' parameter schemas. Each route declares its path and query
 * parameters as zod objects built from these; the same objects validate requests and write the
 * parameters of the OpenAPI document, so the two cannot drift apart.
 */

/** Query values arrive as strings; a number parameter parses the whole string and nothing else. */
function numberFrom(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim();
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? Number(t) : value;
}

export const queryNumber = <T extends z.ZodNumber>(schema: T) => z.preprocess(numberFrom, schema);


/** A calendar night as the topics name it: YYYYMMDD. */
export const night = z
  .string()
  .regex(/^\d{8}$/, 'a night is YYYYMMDD, e.g. 20180819')
  .refine((s) => {
    // Checks do not stop at the first failure: guard against what the regex already refused.
    if (!/^\d{8}$/.test(s)) return true;
    const d = new Date(Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8))));
    return d.toISOString().slice(0, 10).replace(/-/g, '') === s;
  }, 'not a calendar date')
  .meta({ description: 'Night (UTC date of the topic), YYYYMMDD.', examples: ['20180819'] });

export const programid = queryNumber(z.number().int().min(0).max(9999))
  .default(1)
  .meta({ description: 'ZTF program: 1 public, 2 partnership, 3 Caltech.' });

/** An alert id: a decimal integer that fits a signed 64-bit long (JSON carries it as a string). */
export const candid = z
  .string()
  .regex(/^\d{1,19}$/, 'a candid is a decimal integer')
  .refine((s) => !/^\d{1,19}$/.test(s) || BigInt(s) <= 2n ** 63n - 1n, 'candid is larger than a 64-bit integer')
  .meta({ description: 'Alert id (64-bit integer, written as a decimal string).', examples: ['2480088313915010007'] });

export const objectId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$/, 'an objectId is 1-64 of A-Z, a-z, 0-9, "_", ".", ":", "+", "-"')
  .meta({ description: 'Object id, e.g. ZTF18abcdefg.', examples: ['ZTF18aabqtud'] });

/**
 * A time bound: a Julian Date (2458349.75) or a UTC ISO 8601 time (2018-08-19T06:00:00Z; no zone means
 * UTC). Parsed to a JD.
 */
export const timeBound = z
  .string()
  .transform((s, ctx) => {
    const t = s.trim();
    if (/^\d{7}(\.\d+)?$/.test(t)) return Number(t);
    const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
    const ms = iso ? Date.parse(iso[4] ? t.replace(' ', 'T') : `${t.replace(' ', 'T')}${iso[1] ? 'Z' : ''}`) : NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'a time is a Julian Date (2458349.75) or a UTC ISO time (2018-08-19T06:00:00Z)' });
      return z.NEVER;
    }
    return msToJd(ms);
  })
  .meta({ description: 'Julian Date (2458349.75) or UTC ISO 8601 time (2018-08-19T06:00:00Z).', examples: ['2458349.75'] });

/** Comma-separated names from a closed list, each at most once. */
export function nameList<T extends string>(allowed: readonly T[], what: string) {
  return z
    .string()
    .transform((s, ctx) => {
      const names = s.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
      const bad = names.find((n) => !(allowed as readonly string[]).includes(n));
      if (bad !== undefined || names.length === 0) {
        ctx.addIssue({ code: 'custom', message: `${bad === undefined ? 'no' : `unknown ${what} ${JSON.stringify(bad)};`} ${what}s are ${allowed.join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(names)] as T[];
    })
    .meta({ description: `Comma-separated ${what}s: ${allowed.join(', ')}.` });
}

/** One line per problem: "ra: must be < 360". */
function describeIssues(error: z.ZodError, where: string): string {
  return error.issues
    .map((i) => {
      const path = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys') return `unknown ${where} parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return `${path || where}: ${i.message}`;
    })
    .join('; ');
}

/** Validates one part of a request (path parameters, query, body) or throws a 400 naming the problem. */
export function parsePart<T extends z.ZodType>(schema: T, value: unknown, where: 'path' | 'query' | 'body'): z.output<T> {
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  const unknownOnly = parsed.error.issues.every((i) => i.code === 'unrecognized_keys');
  const code = where === 'body' ? 'INVALID_BODY' : unknownOnly ? 'UNKNOWN_PARAMETER' : 'INVALID_PARAMETER';
  throw new ApiError(code, describeIssues(parsed.error, where));
}
