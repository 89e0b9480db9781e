import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeOutcome } from './outcome.ts';
import type { Lost, Outcome } from './outcome.ts';

/* A decoder in a child process that a watchdog can end. */

interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  lookup?: [number, unknown][];
}

/** Set in the environment of the decoder process (and nowhere else) to make this module serve decodes. */
const DECODER_ROLE_ENV = 'ZADS_FUZZ_DECODER';

/**
 * Decodes in a child process, so that a decode stuck in a synchronous loop, one that runs the heap out,
 * or one that kills V8 outright (an array grown past its limit aborts the whole process, worker threads
 * included) is caught and named instead of hanging or killing the test run. Requests are pipelined; a
 * reply not arriving within `hangMs` of the previous one means the oldest request hung.
 */
export class DecoderProcess {
  readonly #hangMs: number;
  #child!: ChildProcess;
  #next = 0;
  readonly #pending = new Map<number, { request: DecodeRequest; resolve: (o: Outcome | Lost) => void }>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Processes started (one, plus one after each hang or crash). */
  starts = 0;

  constructor(options: { hangMs: number }) {
    this.#hangMs = options.hangMs;
    this.#start();
  }

  #start(): void {
    this.starts++;
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=1024'],
      env: { ...process.env, [DECODER_ROLE_ENV]: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (msg: { id: number; outcome: Outcome }) => {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      this.#arm();
      p?.resolve(msg.outcome);
    });
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (child === this.#child && !this.#closed) this.#failOldest('crashed', `decoder process exited (code ${code}, signal ${signal})`);
    });
    this.#child = child;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = this.#pending.size > 0 ? setTimeout(() => this.#failOldest('hung', `no answer within ${this.#hangMs} ms`), this.#hangMs) : undefined;
  }

  /** The oldest request is the one the process was on: it gets the verdict, the rest go again to a new one. */
  #failOldest(kind: 'hung' | 'crashed', message: string): void {
    clearTimeout(this.#timer);
    const old = this.#child;
    const [first, ...rest] = [...this.#pending.values()];
    this.#pending.delete(first?.request.id ?? -1);
    this.#start();
    old.kill('SIGKILL');
    first?.resolve({ kind, message });
    for (const p of rest) this.#child.send(p.request);
    this.#arm();
  }

  decode(bytes: Buffer, lookup?: [number, unknown][]): Promise<Outcome | Lost> {
    const id = this.#next++;
    const request: DecodeRequest = { id, bytes, lookup };
    return new Promise((resolve) => {
      this.#pending.set(id, { request, resolve });
      if (this.#pending.size === 1) this.#arm();
      this.#child.send(request);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
}

/** The decoder process: decode what arrives, in order, and say what came of it. */
function serveDecoder(): void {
  let queue = Promise.resolve();
  process.on('message', (req: DecodeRequest) => {
    queue = queue.then(async () => {
      const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
      process.send!({ id: req.id, outcome: await decodeOutcome(bytes, req.lookup) });
    });
  });
  // Ends with its parent: the IPC channel closing means the test run is over (or was killed).
  process.on('disconnect', () => process.exit(0));
}

if (process.env[DECODER_ROLE_ENV] === '1' && process.send !== undefined) serveDecoder();
