import { spawnSync } from 'node:child_process';
import { rmSync, statfsSync } from 'node:fs';
import { onTestFinished } from 'vitest';

/**
 * Small tmpfs file systems for disk-full tests. Mounting needs root (or CAP_SYS_ADMIN), which the
 * development container and CI have; without it the test fails, saying so — it is never skipped.
 */

function mount(args: readonly string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`mount ${args.join(' ')} failed (${r.error?.message ?? r.stderr.trim()}): disk-full tests mount a small tmpfs and need root`);
  }
}

/** Mounts a new tmpfs of `sizeMiB` MiB on the (existing, empty) folder. */
export function mountTmpfs(dir: string, sizeMiB: number): void {
  mount(['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
}

/** mountTmpfs, unmounted and the folder removed when the current test ends. */
export function mountTmpfsForTest(dir: string, sizeMiB: number): void {
  onTestFinished(() => {
    unmountTmpfs(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  mountTmpfs(dir, sizeMiB);
}

/** Grows (or shrinks) a mounted tmpfs in place: what an operator does when a volume is extended. */
export function resizeTmpfs(dir: string, sizeMiB: number): void {
  mount(['-o', `remount,size=${sizeMiB}m`, dir]);
}

/** Unmounts; lazily when still busy, so a failed test never leaves a mount pinned. Idempotent. */
export function unmountTmpfs(dir: string): void {
  if (spawnSync('mountpoint', ['-q', dir]).status !== 0) return;
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Bytes an unprivileged writer can still put on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
