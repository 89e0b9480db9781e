import { z } from 'zod';
import { ZadsError } from './errors.ts';

/*
 * How components take options (STYLE habit 2): each component's options module exports one
 * `<COMPONENT>_DEFAULTS` object holding every default, and one zod schema of its options that fills those
 * defaults in and is checked at construction (`parseOptions`); the command line shows and uses the same
 * constants. This module holds what they share: the one check of numeric options — for components, the
 * error naming the component's option, and for command lines, the error naming the flag — and the parse.
 */

export interface NumberRule {
  /** Accept 0 (e.g. "0 turns it off"). */
  allowZero?: boolean;
  /** Accept whole numbers only. */
  integer?: boolean;
}

function check(value: number, rule: NumberRule): string | undefined {
  if (!Number.isFinite(value) || value < 0 || (!rule.allowZero && value === 0)) return `a ${rule.integer ? 'whole ' : ''}number ${rule.allowZero ? '≥' : '>'} 0`;
  if (rule.integer && !Number.isInteger(value)) return `a whole number ${rule.allowZero ? '≥' : '>'} 0`;
  return undefined;
}

/** A value as an error message shows it: strings quoted, objects by kind (an option may hold a secret). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof RegExp || value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function invalidOption(owner: string, key: string, wanted: string, value: unknown): ZadsError {
  const what = key === '' ? `${owner} options` : `${owner} option ${key}`;
  return new ZadsError('CONFIG_INVALID', `${what} ${wanted}, not ${shown(value)}`, { context: { key } });
}

/**
 * One numeric option of a component, checked as its schema would ({@link positive}, {@link parseOptions}):
 * finite and > 0 (≥ 0 with `allowZero`; whole with `integer`). The error is CONFIG_INVALID and says
 * `<owner> option <key> must be …`, e.g. "mirror option discoveryIntervalMs must be a number > 0, not -1".
 */
export function positiveOption(owner: string, key: string, value: number, rule: NumberRule = {}): number {
  return parseOptions(owner, z.object({ [key]: positive(rule) }), { [key]: value })[key]!;
}

/** A command-line value as a number > 0 (or as `rule` says), the error naming the flag. */
export function positiveArg(flag: string, raw: string, rule: NumberRule = {}): number {
  const n = Number(raw);
  const wanted = raw.trim() === '' ? 'a number' : check(n, rule);
  if (wanted) throw new ZadsError('CONFIG_INVALID', `${flag} must be ${wanted}, not ${JSON.stringify(raw)}`, { context: { key: flag } });
  return n;
}

/**
 * The schema of a numeric option in a component's options schema: finite and > 0 (≥ 0 with `allowZero`;
 * whole with `integer`), the message saying which ("must be a whole number > 0").
 */
export function positive(rule: NumberRule = {}): z.ZodType<number> {
  return z.custom<number>().check((ctx) => {
    const wanted = check(typeof ctx.value === 'number' ? ctx.value : NaN, rule);
    if (wanted) ctx.issues.push({ code: 'custom', message: `must be ${wanted}`, input: ctx.value });
  });
}

/** Messages of zod's own checks in the words of ours ("must be …"); the schemas give their own for the rest. */
const zodMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') return `must be of type ${issue.expected}`;
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'invalid_union') return 'must be one of the forms its type allows';
  return undefined;
};

/**
 * A component's options, checked against its schema with the defaults filled in; a new object (the
 * caller's is left untouched). The first bad option fails with CONFIG_INVALID `<owner> option <key> must be
 * …, not <value>` and `context.key` naming the option.
 */
export function parseOptions<S extends z.ZodType>(owner: string, schema: S, options: unknown): z.output<S> {
  const parsed = schema.safeParse(options, { error: zodMessage });
  if (parsed.success) return parsed.data;
  const { path, message } = parsed.error.issues[0]!;
  // The value as given, at the issue's path (a bad `mode` of a union, not the object holding it).
  const value = path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), options);
  throw invalidOption(owner, path.join('.'), message, value);
}
