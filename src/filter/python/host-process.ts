import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ZadsError } from '../../errors.ts';
import { FrameReader, decodeFrame, encodeBatch } from './protocol.ts';
import type { HostFrame, WireItem } from './protocol.ts';

/** host.py, beside this file (the package ships it with the sources). */
export const HOST_SCRIPT = fileURLToPath(new URL('./host.py', import.meta.url));

/** What a host process is started with. */
export interface HostSpec {
  python: string;
  /** Absolute paths of the filter modules. */
  paths: string[];
  cwd: string;
  timeoutMs: number;
  hangMs: number;
  /** Longest wait for the host to load the filters, in ms. */
  startTimeoutMs: number;
}

export interface HostEvents {
  /** Any frame after "ready". */
  onFrame(host: HostProcess, frame: HostFrame): void;
  /** The process ended (or could not be read); `why` says how. Called once. */
  onExit(host: HostProcess, why: string): void;
  /** A line the filters (or Python) wrote to stdout/stderr. */
  onOutput(host: HostProcess, line: string): void;
}

const STDERR_TAIL_LINES = 20;

/** One host.py process: spawned, read frame by frame, ended by pid. */
export class HostProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly #reader = new FrameReader();
  readonly #filterCount: number;
  readonly #tail: string[] = [];
  #partial = '';
  #events: HostEvents | undefined;
  #exited = false;
  /** Batches sent and not yet answered, by id, with their items' ids (the host answers them in order). */
  readonly batches = new Map<number, number[]>();
  /** It holds a suspect item (see PythonJudge): nothing else is sent to it until it answers. */
  exclusive = false;
  /** When the host last said anything (a beat, verdicts), ms since the epoch. */
  lastHeardMs = Date.now();
  /** Set once the host is being replaced: nothing more is sent to it. */
  retired = false;

  private constructor(proc: ChildProcessWithoutNullStreams, filterCount: number) {
    this.proc = proc;
    this.#filterCount = filterCount;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /**
   * Spawns a host and waits for it to load the filters. Rejects with CONFIG_INVALID naming the file
   * and line when a module is not a filter, TIMEOUT when the filters take longer than startTimeoutMs to
   * load, or WORKER_FAILED when the host ends or says something else before it is ready.
   */
  static start(spec: HostSpec, filterCount: number): Promise<{ host: HostProcess; ready: Extract<HostFrame, { type: 'ready' }> }> {
    const args = [HOST_SCRIPT, '--timeout-ms', String(spec.timeoutMs), '--hang-ms', String(spec.hangMs), '--', ...spec.paths];
    // PYTHONUNBUFFERED: a filter's print() reaches the log as it is written, not when the host ends.
    const proc = spawn(spec.python, args, { cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const host = new HostProcess(proc, filterCount);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: ZadsError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        host.kill();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new ZadsError('TIMEOUT', `the Python filter host (${spec.python}) did not load the filters within ${spec.startTimeoutMs} ms${host.#tailText()}`)),
        spec.startTimeoutMs,
      );
      host.#events = {
        onFrame: (_h, frame) => {
          if (settled) return;
          if (frame.type === 'ready') {
            settled = true;
            clearTimeout(timer);
            resolve({ host, ready: frame });
          } else if (frame.type === 'failed') {
            fail(new ZadsError('CONFIG_INVALID', `${frame.file}:${frame.line}: ${frame.message}`, { context: { file: frame.file } }));
          } else {
            fail(new ZadsError('WORKER_FAILED', `the Python filter host said ${frame.type} before it was ready`));
          }
        },
        onExit: (_h, why) => {
          const hint = /No module named 'fastavro'/.test(host.#tail.join('\n')) ? ' — fastavro is missing: run "bash ops/python-env.sh" (it makes .venv)' : '';
          fail(new ZadsError('WORKER_FAILED', `the Python filter host (${spec.python}) ${why} before it was ready${hint}${host.#tailText()}`));
        },
        onOutput: () => undefined,
      };
      proc.once('error', (err: NodeJS.ErrnoException) => {
        const hint = err.code === 'ENOENT' ? ': no such interpreter — run "bash ops/python-env.sh" to make the project\'s .venv, or set python.interpreter (ZADS_PYTHON)' : '';
        fail(new ZadsError('CONFIG_INVALID', `cannot start Python ${spec.python}: ${err.message}${hint}`, { cause: err, context: { key: 'python.interpreter' } }));
      });
      host.#wire();
    });
  }

  /** Hands the host's later frames and its end to `events`. */
  attach(events: HostEvents): void {
    this.#events = events;
  }

  #wire(): void {
    this.proc.stdout.on('data', (chunk: Buffer) => {
      this.lastHeardMs = Date.now();
      let frames: Buffer[];
      try {
        frames = this.#reader.push(chunk);
      } catch (err) {
        this.#exit(`sent a damaged frame (${(err as Error).message})`);
        return;
      }
      for (const f of frames) {
        let frame: HostFrame;
        try {
          frame = decodeFrame(f, this.#filterCount);
        } catch (err) {
          this.#exit(`sent a damaged frame (${(err as Error).message})`);
          return;
        }
        this.#events?.onFrame(this, frame);
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (text: string) => {
      const lines = (this.#partial + text).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        this.#tail.push(line);
        if (this.#tail.length > STDERR_TAIL_LINES) this.#tail.shift();
        this.#events?.onOutput(this, line);
      }
    });
    // A write to a host that just died fails with EPIPE: its exit is what counts.
    this.proc.stdin.on('error', () => undefined);
    this.proc.once('exit', (code, signal) => this.#exit(signal ? `was ended by ${signal}` : `exited with code ${code}`));
  }

  #tailText(): string {
    const lines = [...this.#tail, this.#partial].filter((l) => l.trim() !== '');
    return lines.length > 0 ? `; its last output:\n${lines.slice(-STDERR_TAIL_LINES).join('\n')}` : '';
  }

  #exit(why: string): void {
    if (this.#exited) return;
    this.#exited = true;
    this.kill();
    this.#events?.onExit(this, why);
  }

  get exited(): boolean {
    return this.#exited;
  }

  send(batchId: number, items: readonly WireItem[]): void {
    if (this.batches.size === 0) this.lastHeardMs = Date.now();
    this.batches.set(batchId, items.map((i) => i.id));
    const stdin = this.proc.stdin;
    stdin.cork();
    for (const part of encodeBatch(batchId, items)) stdin.write(part);
    process.nextTick(() => stdin.uncork());
  }

  /** Ends the process now (SIGKILL: a filter may be stuck where nothing else reaches it). */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  /** Closes its stdin (the host then exits by itself) and kills it if it has not within `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
