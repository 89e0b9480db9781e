/** The child processes of the load stage: started, read line by line, stopped by pid. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { BenchContext } from '../harness.ts';

export interface Child {
  readonly label: string;
  readonly proc: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  readonly running: boolean;
  /** The last few KB of its stderr, for error messages. */
  stderrTail(): string;
  /** Calls `listener` with each later line of its stdout ('out') or stderr ('err'). */
  onLine(stream: 'out' | 'err', listener: (line: string) => void): void;
  /** Writes a line to its stdin (ignored once it has gone). */
  write(line: string): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface ChildOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts `node <args>`; its stop is also registered with the run, so nothing outlives a failed stage. */
export function startChild(ctx: BenchContext, label: string, args: string[], options: ChildOptions = {}): Child {
  const proc = spawn(process.execPath, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let tail = '';
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    // 'close', not 'exit': its stdout has been read to the end by then.
    proc.once('close', (code) => {
      running = false;
      resolve(code);
    });
    proc.once('error', (err) => {
      running = false;
      tail += `\n${err.message}`;
      resolve(-1);
    });
  });
  proc.stdin!.on('error', () => undefined);
  const listeners = { out: [] as ((line: string) => void)[], err: [] as ((line: string) => void)[] };
  createInterface({ input: proc.stdout! }).on('line', (line) => listeners.out.forEach((l) => l(line)));
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    tail = `${tail}${line}\n`.slice(-4000);
    listeners.err.forEach((l) => l(line));
  });
  let stopping: Promise<void> | undefined;
  const child: Child = {
    label,
    proc,
    exited,
    get running() {
      return running;
    },
    stderrTail: () => tail.trim(),
    onLine(stream, listener) {
      listeners[stream].push(listener);
    },
    write(line) {
      if (running && proc.stdin!.writable) proc.stdin!.write(`${line}\n`);
    },
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (!running) return;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
  ctx.defer(`stop ${label} (pid ${proc.pid})`, () => child.stop(2000));
  return child;
}

/** The first later line of the child's stdout or stderr for which `test` holds; rejects if it exits first or on timeout. */
export function waitForLine(child: Child, stream: 'out' | 'err', what: string, timeoutMs: number, test: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`${child.label}: ${what} did not happen within ${timeoutMs / 1000} s; stderr: ${child.stderrTail().slice(-500)}`));
    }, timeoutMs);
    child.onLine(stream, (line) => {
      if (done || !test(line)) return;
      done = true;
      clearTimeout(timer);
      resolve(line);
    });
    void child.exited.then((code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${child.label} exited (${code}) before ${what}: ${child.stderrTail().slice(-500)}`));
    });
  });
}
