import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';

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

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr, in the order they arrived. */
  output: string;
  stdout: string;
  stderr: string;
}

/** Collects a background process's output and resolves when it exits. */
export function exited(child: ChildProcess): Promise<Exit> {
  let output = '';
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => ((output += d.toString()), (stdout += d.toString())));
  child.stderr?.on('data', (d: Buffer) => ((output += d.toString()), (stderr += d.toString())));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, output, stdout, stderr })));
}

/** A `zads` process of the current test. */
export interface Background {
  child: ChildProcess;
  /** Resolves when it exits, with all it printed. */
  exit: Promise<Exit>;
  /** What it printed so far (both streams, in arrival order). */
  printed(): string;
  /** What it printed on stderr so far. */
  stderr(): string;
}

/** Starts `zads` as spawnZads does, killed (SIGKILL) when the current test ends if it is still running. */
export function backgroundZads(args: readonly string[]): Background {
  const child = spawnZads(args);
  const exit = exited(child);
  let printed = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (printed += d.toString()));
  child.stderr?.on('data', (d: Buffer) => ((printed += d.toString()), (stderr += d.toString())));
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exit;
  });
  return { child, exit, printed: () => printed, stderr: () => stderr };
}

/** What `zads produce --simulate` is given: `alerts` simulated alerts of one night, deterministic from `seed`. */
export interface SimulatedNight {
  alerts: number;
  seed: number;
  night: string;
  programid: number;
  brokers: readonly string[];
}

/** Starts `zads produce --simulate` to the night's topic on `brokers`; resolves (never rejects) when it exits. */
export function simulateNight(o: SimulatedNight): Promise<Exit> {
  return exited(spawnZads(['produce', '--simulate', String(o.alerts), '--seed', String(o.seed), '--night', o.night, '--program', String(o.programid), '--brokers', o.brokers.join(','), '--json']));
}

/** simulateNight, awaited: asserts it exits 0 and resolves with what it printed. */
export async function produceSimulatedNight(o: SimulatedNight): Promise<Exit> {
  const p = await simulateNight(o);
  expect(p.code, p.output).toBe(0);
  return p;
}
