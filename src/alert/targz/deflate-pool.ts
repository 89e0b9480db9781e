import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ZadsError } from '../../errors.ts';

/** One block of a gzip stream to deflate. */
export interface DeflateJob {
  /** The block's bytes. Must own its whole ArrayBuffer (`Buffer.allocUnsafeSlow`): it is moved to the worker, not copied, and unusable afterwards. */
  input: Buffer;
  /** Up to 32 KiB of the stream just before the block: matches may reach back into it, as in one long stream. */
  dictionary?: Buffer;
  /** zlib level 0–9. */
  level: number;
  /** zlib memLevel 1–9. */
  memLevel: number;
  /** The last block: ends with a final deflate block instead of a sync flush. */
  last: boolean;
  /** Emit 4 KiB runs that are already compressed (estimated entropy ≥ 7.6 bits/byte) as stored blocks instead of deflating them. */
  storeIncompressible: boolean;
}

export interface DeflatePoolOptions {
  /** Worker threads. Default: the cores the process may use (`os.availableParallelism()`). */
  workers?: number;
}

interface Pending {
  resolve: (out: Buffer) => void;
  reject: (err: Error) => void;
  worker: PoolWorker;
}

interface PoolWorker {
  thread: Worker;
  busy: number;
}

const WORKER = new URL('./deflate-worker.mjs', import.meta.url);
/** Jobs queued in one worker at a time: its next block is already there when it finishes one. */
const JOBS_PER_WORKER = 3;

/**
 * Worker threads that deflate blocks of gzip streams. Started on first use; an idle worker does not keep
 * the process alive (it is unref'd until it has a job again). Jobs wait in order when every worker has
 * its queue full. A worker that dies fails its jobs and is replaced by the next job.
 */
export class DeflatePool {
  readonly size: number;
  readonly #workers: PoolWorker[] = [];
  readonly #queue: { job: DeflateJob; resolve: (out: Buffer) => void; reject: (err: Error) => void }[] = [];
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;

  constructor(options: DeflatePoolOptions = {}) {
    const workers = options.workers ?? availableParallelism();
    if (!Number.isInteger(workers) || workers < 1) {
      throw new ZadsError('CONFIG_INVALID', `workers must be a whole number ≥ 1, not ${workers}`, { context: { key: 'workers' } });
    }
    this.size = workers;
  }

  /** The raw deflate bytes of the block. */
  deflate(job: DeflateJob): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new ZadsError('CLOSED', 'the deflate pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker; jobs not done fail. Calling it again does nothing more. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new ZadsError('CLOSED', 'the deflate pool was closed');
    for (const q of this.#queue.splice(0)) q.reject(err);
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    await Promise.all(this.#workers.splice(0).map((w) => w.thread.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const worker = this.#freeWorker();
      if (!worker) return;
      const { job, resolve, reject } = this.#queue.shift()!;
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject, worker });
      if (worker.busy++ === 0) worker.thread.ref();
      const input = job.input.buffer as ArrayBuffer;
      if (job.input.byteOffset !== 0 || job.input.byteLength !== input.byteLength) {
        this.#pending.delete(id);
        this.#idle(worker);
        reject(new ZadsError('INTERNAL', 'a deflate job must own its whole ArrayBuffer (Buffer.allocUnsafeSlow)'));
        continue;
      }
      const dictionary = job.dictionary ? new Uint8Array(job.dictionary).buffer : undefined;
      const { level, memLevel, last, storeIncompressible } = job;
      worker.thread.postMessage({ id, input, dictionary, level, memLevel, last, storeIncompressible }, [input]);
    }
  }

  #freeWorker(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const w of this.#workers) if (w.busy < JOBS_PER_WORKER && (!best || w.busy < best.busy)) best = w;
    if (best && best.busy === 0) return best;
    if (this.#workers.length < this.size) return this.#spawn();
    return best;
  }

  #spawn(): PoolWorker {
    const thread = new Worker(WORKER);
    thread.unref();
    const worker: PoolWorker = { thread, busy: 0 };
    thread.on('message', (msg: { id: number; output?: ArrayBuffer; error?: string }) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      this.#idle(worker);
      if (msg.output) p.resolve(Buffer.from(msg.output));
      else p.reject(new ZadsError('WORKER_FAILED', `deflate failed: ${msg.error ?? 'no output'}`));
      this.#dispatch();
    });
    const fail = (err: Error): void => {
      const i = this.#workers.indexOf(worker);
      if (i >= 0) this.#workers.splice(i, 1);
      for (const [id, p] of this.#pending) {
        if (p.worker !== worker) continue;
        this.#pending.delete(id);
        p.reject(new ZadsError('WORKER_FAILED', `a deflate worker stopped: ${err.message}`, { cause: err }));
      }
      if (!this.#closed) this.#dispatch();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.#workers.push(worker);
    return worker;
  }

  #idle(worker: PoolWorker): void {
    if (--worker.busy === 0) worker.thread.unref();
  }
}

let shared: DeflatePool | undefined;

/** The process's pool, one worker per core: writers share the cores instead of each starting its own threads. */
export function sharedDeflatePool(): DeflatePool {
  shared ??= new DeflatePool();
  return shared;
}
