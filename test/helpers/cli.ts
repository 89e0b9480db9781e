import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${REPO_ROOT}bin/zads.js`;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the `zads` command exactly as a user would (the package's bin), and waits for it. */
export function runZads(args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, ...options.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
