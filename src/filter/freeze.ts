/**
 * Freezes a decoded alert and everything in it, so that a filter cannot change what the filters after
 * it see (in strict-mode code, which every ES module is, a write then throws and counts as that
 * filter's error). Buffers (the cutouts' bytes) cannot be frozen and are left as they are.
 */
export function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}
