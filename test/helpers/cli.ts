import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
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

/** Starts `zads` as a background process (for kill tests), with quiet logs. */
export function spawnZads(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ZADS_LOG_LEVEL: 'warn' },
  });
}

/** Collects a background process's output and resolves when it exits. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output })));
}
