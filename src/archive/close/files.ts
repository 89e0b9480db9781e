import { open, rm } from 'node:fs/promises';

/** Makes a rename or a new file in `dir` durable: fsync the folder itself. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes a file if it is there; a failure here must not hide the error that led to it. */
export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

/** A ENOSPC/EDQUOT error: the only storage failure a retry can fix. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
