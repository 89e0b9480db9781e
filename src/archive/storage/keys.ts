import { ZadsError } from '../../errors.ts';
import type { ByteRange } from './types.ts';

/**
 * Accepts only plain relative keys ("20180819/ztf_public_20180819.tar.gz"): no leading "/", no "..",
 * no empty or "." segments, no backslashes or NULs. Both stores check, so a key that reached the API
 * from a URL can never leave the archive.
 */
export function checkKey(key: string): string {
  const bad =
    key.length === 0 ||
    key.length > 1024 ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((seg) => seg === '' || seg === '.' || seg === '..');
  if (bad) throw new ZadsError('STORAGE_KEY_INVALID', `storage key ${JSON.stringify(key)} is not a plain relative path`, { context: { key } });
  return key;
}

/** Resolves a range against an object size; throws STORAGE_RANGE_INVALID when it lies outside. */
export function resolveRange(range: ByteRange, sizeBytes: number, key: string): { start: number; end: number } {
  const end = range.end === undefined ? sizeBytes - 1 : Math.min(range.end, sizeBytes - 1);
  if (!Number.isInteger(range.start) || range.start < 0 || range.start >= sizeBytes || end < range.start) {
    throw new ZadsError('STORAGE_RANGE_INVALID', `bytes ${range.start}-${range.end ?? ''} are outside ${key} (${sizeBytes} bytes)`, {
      context: { key, sizeBytes },
    });
  }
  return { start: range.start, end };
}
