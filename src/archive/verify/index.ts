export { DIFFERENCE_KINDS } from './types.ts';
export type { Difference, DifferenceKind } from './types.ts';
export { verifyArchive } from './verify.ts';
export type { VerifyOptions } from './verify.ts';
