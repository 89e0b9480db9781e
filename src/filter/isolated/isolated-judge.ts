import { Worker } from 'node:worker_threads';
import type { AlertSource } from '../../alert/index.ts';
import { ZadsError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { DEFAULT_FILTER_TIMEOUT_MS } from '../filter-set.ts';
import type { FilterSetOptions } from '../filter-set.ts';
import { verdictOf } from '../judge.ts';
import type { ItemVerdict, Judge, JudgeOptions } from '../judge.ts';
import { FilterTally } from '../tally.ts';
import type { FilterId, FilterTallyOptions } from '../tally.ts';
import type { FilterStats } from '../types.ts';
import { PROBE_BYTES, probeViews } from './protocol.ts';
import type { FromWorker, WorkerInit } from './protocol.ts';

/** Options of an {@link IsolatedJudge}. */
export interface IsolatedJudgeOptions extends FilterSetOptions, FilterTallyOptions {
  /**
   * A synchronous filter call still running after this long, in ms, is taken as stuck: the worker is
   * ended, the call counted as a timeout, and a new worker judges the alerts in flight (the stuck filter
   * skipped for that alert). Default twice `timeoutMs`.
   */
  hangMs?: number;
  /** Base of relative module paths. Default the process's working folder. */
  cwd?: string;
}

/** Workers one item may take down with it before it is given up. */
const MAX_ATTEMPTS = 3;
const BOOT = new URL('./boot.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;

interface Pending {
  id: number;
  bytes: Buffer;
  source: AlertSource;
  candid: bigint | undefined;
  skip: Set<number>;
  attempts: number;
  resolve: (v: ItemVerdict) => void;
  reject: (e: ZadsError) => void;
}

interface Booted {
  worker: Worker;
  filters: FilterId[];
}

function boot(init: WorkerInit): Promise<Booted> {
  const worker = new Worker(BOOT, { workerData: { entry: ENTRY, init } });
  return new Promise((resolve, reject) => {
    const fail = (err: ZadsError): void => {
      void worker.terminate();
      reject(err);
    };
    worker.once('message', (msg: FromWorker) => {
      worker.removeAllListeners('error').removeAllListeners('exit');
      if (msg.type === 'ready') resolve({ worker, filters: msg.filters });
      else if (msg.type === 'failed') fail(new ZadsError(msg.error.code as ErrorCode, msg.error.message));
      else fail(new ZadsError('WORKER_FAILED', `filter worker said ${msg.type} before it was ready`));
    });
    worker.once('error', (err) => fail(new ZadsError('WORKER_FAILED', `filter worker failed to start: ${err.message}`, { cause: err })));
    worker.once('exit', (code) => fail(new ZadsError('WORKER_FAILED', `filter worker exited (code ${code}) before it was ready`)));
  });
}

/**
 * Runs the filters in a worker thread, so that none can stop the runner — not even one stuck in a
 * synchronous loop, which no timer in its own thread could interrupt. A watchdog reads what the worker
 * is doing; a call running past `hangMs` ends the worker, counts a timeout against that filter, and the
 * alerts in flight go to a new worker. Items cross threads as bytes (copied) and verdicts come back, so
 * the cost is a copy per alert and the worker's start-up (~0.3 s, again after each stuck call).
 */
export class IsolatedJudge implements Judge {
  readonly filters: readonly FilterId[];
  readonly #init: WorkerInit;
  readonly #hangMs: number;
  readonly #tally: FilterTally;
  readonly #log: Logger | undefined;
  readonly #probe: ReturnType<typeof probeViews>;
  readonly #pending = new Map<number, Pending>();
  readonly #watchdog: NodeJS.Timeout;
  #worker: Promise<Worker>;
  #nextId = 1;
  #restarts = 0;
  #closing: Promise<void> | undefined;

  /**
   * Starts the first worker, which loads the filters (predefined names or module paths, relative ones
   * against `cwd`); rejects as `loadFilters` would.
   */
  static async start(specs: readonly string[], options: IsolatedJudgeOptions = {}): Promise<IsolatedJudge> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_FILTER_TIMEOUT_MS;
    const hangMs = options.hangMs ?? 2 * timeoutMs;
    if (!Number.isFinite(hangMs) || hangMs <= 0) throw new ZadsError('CONFIG_INVALID', `filter option hangMs must be a positive number of ms, not ${hangMs}`, { context: { key: 'hangMs' } });
    const init: WorkerInit = {
      specs: [...specs],
      cwd: options.cwd ?? process.cwd(),
      timeoutMs,
      freezeAlerts: options.freezeAlerts ?? true,
      probe: new SharedArrayBuffer(PROBE_BYTES),
    };
    probeViews(init.probe).call[0] = -1;
    const first = await boot(init);
    return new IsolatedJudge(init, first, hangMs, options);
  }

  private constructor(init: WorkerInit, first: Booted, hangMs: number, options: IsolatedJudgeOptions) {
    this.#init = init;
    this.#hangMs = hangMs;
    this.filters = first.filters;
    this.#tally = new FilterTally(first.filters, options);
    this.#log = options.logger?.child({ component: 'filter-worker' });
    this.#probe = probeViews(init.probe);
    this.#worker = Promise.resolve(this.#attach(first.worker));
    this.#watchdog = setInterval(() => this.#watch(), Math.max(5, Math.min(250, hangMs / 4)));
    this.#watchdog.unref();
  }

  get stats(): FilterStats[] {
    return this.#tally.stats;
  }

  /** How many times a worker was replaced (a stuck call or a crash). */
  get restarts(): number {
    return this.#restarts;
  }

  judge(bytes: Buffer, source: AlertSource, options: JudgeOptions = {}): Promise<ItemVerdict> {
    if (this.#closing) return Promise.reject(new ZadsError('CLOSED', 'the filter worker is closed'));
    return new Promise((resolve, reject) => {
      const id = this.#nextId;
      this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
      const p: Pending = { id, bytes, source, candid: options.candid, skip: new Set(), attempts: 0, resolve, reject };
      this.#pending.set(id, p);
      void this.#send(p);
    });
  }

  async #send(p: Pending): Promise<void> {
    const worker = await this.#worker.catch(() => undefined);
    if (!worker || this.#closing || !this.#pending.has(p.id)) return;
    const copy = new Uint8Array(p.bytes); // the worker gets its own bytes; ours stay for the output
    worker.postMessage({ type: 'judge', id: p.id, bytes: copy, source: p.source, candid: p.candid, skip: [...p.skip] }, [copy.buffer]);
  }

  #attach(worker: Worker): Worker {
    worker.on('message', (msg: FromWorker) => this.#onMessage(msg));
    worker.on('error', (err) => this.#replace(worker, `crashed: ${err.message}`));
    worker.on('exit', (code) => this.#replace(worker, `exited with code ${code}`));
    return worker;
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type !== 'verdict' && msg.type !== 'undecodable') return;
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (msg.type === 'undecodable') {
      p.reject(new ZadsError(msg.error.code as ErrorCode, msg.error.message, { context: msg.error.context as ZadsError['context'] }));
      return;
    }
    for (const e of msg.evaluations) this.#tally.record(e);
    p.resolve(verdictOf(this.filters.length, msg.alerts, msg.evaluations));
  }

  #watch(): void {
    const index = Atomics.load(this.#probe.call, 0);
    if (index < 0 || this.#closing) return;
    const ranMs = performance.timeOrigin + performance.now() - this.#probe.startedMs[0]!;
    if (ranMs <= this.#hangMs) return;
    const p = this.#pending.get(this.#probe.call[1]!);
    this.#tally.count(index, 'timeout');
    p?.skip.add(index);
    this.#log?.warn({ filter: this.filters[index]?.name, ranMs: Math.round(ranMs), hangMs: this.#hangMs }, 'filter stuck in a synchronous call: ending its worker and starting another');
    Atomics.store(this.#probe.call, 0, -1);
    void this.#worker.then((w) => this.#replace(w, 'stuck'));
  }

  /**
   * Who a dead worker was judging: the item of the synchronous call it died in, if it died in one;
   * otherwise (an error thrown from a timer, say) it cannot be told, and every item in flight is.
   */
  #culprits(): Pending[] {
    if (Atomics.load(this.#probe.call, 0) >= 0) {
      const p = this.#pending.get(this.#probe.call[1]!);
      if (p) return [p];
    }
    return [...this.#pending.values()];
  }

  /** Ends a worker (if it is the current one) and sends everything in flight to a new one. */
  #replace(worker: Worker, why: string): void {
    if (this.#closing) return;
    void this.#worker.then((current) => {
      if (current !== worker || this.#closing) return;
      this.#restarts++;
      worker.removeAllListeners('exit').removeAllListeners('error').removeAllListeners('message');
      void worker.terminate();
      if (why !== 'stuck') {
        this.#log?.warn({ why }, 'filter worker ended: starting another');
        for (const p of this.#culprits()) p.attempts++;
      }
      Atomics.store(this.#probe.call, 0, -1);
      this.#worker = boot(this.#init).then((b) => this.#attach(b.worker));
      this.#worker.catch((err: unknown) => this.#abandon(err));
      for (const p of [...this.#pending.values()].sort((a, b) => a.id - b.id)) {
        if (p.attempts >= MAX_ATTEMPTS) this.#giveUp(p, why);
        else void this.#send(p);
      }
    });
  }

  /** An item whose workers kept dying: every filter not yet counted gets an error; nothing passes. */
  #giveUp(p: Pending, why: string): void {
    this.#pending.delete(p.id);
    const message = `filter worker ${why} on this alert ${MAX_ATTEMPTS} times`;
    for (let i = 0; i < this.filters.length; i++) if (!p.skip.has(i)) this.#tally.count(i, 'error', message);
    p.resolve({ alerts: [], passed: this.filters.map(() => []) });
  }

  #abandon(err: unknown): void {
    const e = new ZadsError('WORKER_FAILED', `cannot start a new filter worker: ${(err as Error).message}`, { cause: err });
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /** Ends the worker; items still in flight are rejected. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#watchdog);
      const worker = await this.#worker.catch(() => undefined);
      worker?.removeAllListeners();
      await worker?.terminate();
      const closed = new ZadsError('CLOSED', 'the filter worker was closed with alerts in flight');
      for (const p of this.#pending.values()) p.reject(closed);
      this.#pending.clear();
    })();
    return this.#closing;
  }
}
