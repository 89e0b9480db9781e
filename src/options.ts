import { ZadsError } from './errors.ts';

/*
 * The one check of numeric options, for components (checked at construction, the error naming the
 * component's option) and for command lines (the error naming the flag). Everything else about options —
 * defaults, units — lives beside each component's options.
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

/**
 * A component's numeric option: finite and > 0 (≥ 0 with `allowZero`; whole with `integer`). The error is
 * CONFIG_INVALID and says `<owner> option <key> must be …`, e.g. "mirror option discoveryIntervalMs must be a number > 0, not -1".
 */
export function positiveOption(owner: string, key: string, value: number, rule: NumberRule = {}): number {
  const wanted = check(value, rule);
  if (wanted) throw new ZadsError('CONFIG_INVALID', `${owner} option ${key} must be ${wanted}, not ${value}`, { context: { key } });
  return value;
}

/** A command-line value as a number > 0 (or as `rule` says), the error naming the flag. */
export function positiveArg(flag: string, raw: string, rule: NumberRule = {}): number {
  const n = Number(raw);
  const wanted = raw.trim() === '' ? 'a number' : check(n, rule);
  if (wanted) throw new ZadsError('CONFIG_INVALID', `${flag} must be ${wanted}, not ${JSON.stringify(raw)}`, { context: { key: flag } });
  return n;
}
