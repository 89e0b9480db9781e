import type { ZtfCandidate } from '../../alert/index.ts';

/**
 * A candidate field as a finite number, or undefined when it is null, missing or not a number. The
 * predefined cuts fail an alert whose field is undefined when the cut needs a value.
 */
export function numberField(candidate: ZtfCandidate, field: string): number | undefined {
  const value = candidate[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A positive subtraction (science − reference): ZTF writes isdiffpos as "t" (older alerts "1"). */
export function isPositiveDifference(candidate: ZtfCandidate): boolean {
  const value = candidate.isdiffpos;
  return value === 't' || value === '1';
}
