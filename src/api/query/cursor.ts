import { createHash } from 'node:crypto';
import type { JdCandid } from '../../archive/index.ts';
import { ApiError } from '../errors.ts';

/** Where a page ended: the (jd, candid) of its last alert, under the query it belongs to. */
export type PagePosition = JdCandid;

/** A short digest of the query a cursor belongs to, so a cursor is never applied to another query. */
export function queryTag(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 10);
}

/**
 * The opaque cursor of a page: base64url of `{"v":1,"j":jd,"c":"candid","q":tag}`. Clients pass it back
 * unchanged; its content is not part of the API.
 */
export function encodeCursor(at: PagePosition, tag: string): string {
  return Buffer.from(JSON.stringify({ v: 1, j: at.jd, c: at.candid.toString(), q: tag }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, tag: string): PagePosition {
  const bad = (why: string): never => {
    throw new ApiError('INVALID_PARAMETER', `cursor: ${why}; pass back the nextCursor of the previous page unchanged`);
  };
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) bad('not a cursor');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return bad('not a cursor');
  }
  const v = value as { v?: unknown; j?: unknown; c?: unknown; q?: unknown };
  if (v.v !== 1 || typeof v.j !== 'number' || !Number.isFinite(v.j) || typeof v.c !== 'string' || !/^\d{1,19}$/.test(v.c)) bad('not a cursor');
  if (v.q !== tag) bad('it belongs to a query with other parameters');
  return { jd: v.j as number, candid: BigInt(v.c as string) };
}
