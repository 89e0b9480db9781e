import { isAbsolute, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import type { AlertSource } from '../../alert/index.ts';
import { ZadsError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { verdictOf } from '../judge.ts';
import type { ItemVerdict, Judge, JudgeOptions } from '../judge.ts';
import { FilterTally } from '../tally.ts';
import type { FilterId } from '../tally.ts';
import type { FilterStats } from '../types.ts';
import { HostProcess } from './host-process.ts';
import type { HostEvents, HostSpec } from './host-process.ts';
import type { HostFrame, ItemAnswer, WireItem } from './protocol.ts';
import { PYTHON_JUDGE_DEFAULTS, resolvePythonJudgeOptions } from './options.ts';
import type { PythonJudgeOptions, ResolvedPythonJudgeOptions } from './options.ts';

/** The interpreter Python filters run in by default: {@link PYTHON_JUDGE_DEFAULTS.python}. */
export const DEFAULT_PYTHON = PYTHON_JUDGE_DEFAULTS.python;

/**
 * Batches a host holds at once: while it judges one, the next is already in its pipe, so it never
 * waits on the round trip.
 */
const BATCHES_IN_FLIGHT = 2;
/** Host processes one item may take down with it (crashes whose culprit is unknown) before it is given up. */
const MAX_ATTEMPTS = 3;
const UNDECODABLE_CODES = new Set<string>(['ALERT_NOT_CONTAINER', 'ALERT_TRUNCATED', 'ALERT_CORRUPT', 'ALERT_NOT_ZTF', 'ALERT_CODEC_UNSUPPORTED', 'SCHEMA_INVALID', 'SCHEMA_UNKNOWN']);

interface Pending {
  id: number;
  bytes: Buffer;
  source: AlertSource;
  candid: bigint | undefined;
  /** Bit i: filter i hung a host on this item; it is not called again. */
  skip: number;
  attempts: number;
  /** A host died judging a batch holding this item, culprit unknown: it is sent alone from now on. */
  suspect: boolean;
  resolve: (v: ItemVerdict) => void;
  reject: (e: ZadsError) => void;
}

/** Is this filter spec a Python module? */
export function isPythonSpec(spec: string): boolean {
  return /\.py$/i.test(spec);
}

/**
 * Runs Python filters — modules defining `alert_filter(alert) -> bool` — in host processes (host.py) it
 * starts and supervises. Items go to the hosts as raw bytes, batched (many per round trip), and each host
 * decodes them with fastavro, using each message's own writer schema, and calls the filters. A call
 * that raises or answers anything but a bool fails that alert for that filter; one that runs past
 * `hangMs` (an endless loop) gets its host killed, a timeout counted, and the items in flight judged again
 * by a new host with that filter skipped for that alert. A host that dies for another reason (os._exit,
 * a crash in C code) is replaced too; the items it held are then judged one by one, and one that takes
 * down {@link MAX_ATTEMPTS} hosts fails every filter.
 */
export class PythonJudge implements Judge {
  readonly filters: readonly FilterId[];
  /** The Python and fastavro versions the hosts run. */
  readonly runtime: { python: string; fastavro: string };
  readonly #spec: HostSpec;
  readonly #tally: FilterTally;
  readonly #log: Logger | undefined;
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #hosts = new Set<HostProcess>();
  readonly #pending = new Map<number, Pending>();
  readonly #queue: Pending[] = [];
  readonly #events: HostEvents;
  readonly #watchdog: NodeJS.Timeout;
  readonly #silentMs: number;
  #nextId = 1;
  #nextBatch = 1;
  #restarts = 0;
  #starting = 0;
  #flushScheduled = false;
  #broken: ZadsError | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Starts the hosts, which load the modules (paths relative to `cwd`); rejects — before anything is
   * judged — with CONFIG_INVALID naming the file and line when one is not a filter module.
   */
  static async start(specs: readonly string[], options: PythonJudgeOptions = {}): Promise<PythonJudge> {
    if (specs.length === 0) throw new ZadsError('CONFIG_INVALID', 'no Python filter given', { context: { key: 'filter' } });
    const o = resolvePythonJudgeOptions(options);
    const paths: string[] = [];
    for (const s of specs) {
      const path = isAbsolute(s) ? s : resolve(o.cwd, s);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) throw new ZadsError('INPUT_NOT_FOUND', `filter module ${path} does not exist (or is not a file)`, { context: { file: path } });
      paths.push(path);
    }
    const spec: HostSpec = { python: o.python, paths, cwd: o.cwd, timeoutMs: o.timeoutMs, hangMs: o.hangMs, startTimeoutMs: o.startTimeoutMs };
    const started = await Promise.allSettled(Array.from({ length: o.workers }, () => HostProcess.start(spec, paths.length)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of started) if (s.status === 'fulfilled') s.value.host.kill();
      throw failed.reason;
    }
    const ok = started.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof HostProcess.start>>>).value);
    const ids = ok[0]!.ready.filters;
    const names = ids.map((f) => f.name);
    const twin = names.find((n, i) => names.indexOf(n) !== i);
    if (twin !== undefined) {
      for (const s of ok) s.host.kill();
      throw new ZadsError('CONFIG_INVALID', `two filters are named ${JSON.stringify(twin)} (${paths.filter((_, i) => names[i] === twin).join(' and ')}); names must differ, as each names an output`, {
        context: { key: 'filter' },
      });
    }
    return new PythonJudge(spec, ok.map((s) => s.host), ids, { python: ok[0]!.ready.python, fastavro: ok[0]!.ready.fastavro }, o);
  }

  private constructor(spec: HostSpec, hosts: HostProcess[], ids: FilterId[], runtime: { python: string; fastavro: string }, options: ResolvedPythonJudgeOptions) {
    this.#spec = spec;
    this.filters = ids;
    this.runtime = runtime;
    this.#tally = new FilterTally(ids, options);
    this.#log = options.logger?.child({ component: 'python-filter' });
    this.#maxItems = options.maxBatchItems;
    this.#maxBytes = options.maxBatchBytes;
    // The host beats every ≤0.5 s while judging; silence this long means it is stuck where its own
    // watchdog thread cannot run (C code holding the GIL).
    this.#silentMs = 2 * spec.hangMs + 1000;
    this.#events = {
      onFrame: (host, frame) => this.#onFrame(host, frame),
      onExit: (host, why) => this.#onExit(host, why),
      onOutput: (host, line) => this.#log?.info({ pid: host.pid, output: line }, 'Python filter output'),
    };
    for (const h of hosts) this.#adopt(h);
    this.#watchdog = setInterval(() => this.#watch(), Math.max(5, Math.min(250, spec.hangMs / 4)));
    this.#watchdog.unref();
  }

  get stats(): FilterStats[] {
    return this.#tally.stats;
  }

  /** How many host processes were replaced (a stuck call or a crash). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Process ids of the running hosts. */
  get pids(): number[] {
    return [...this.#hosts].map((h) => h.pid).filter((p): p is number => p !== undefined);
  }

  judge(bytes: Buffer, source: AlertSource, options: JudgeOptions = {}): Promise<ItemVerdict> {
    if (this.#closing) return Promise.reject(new ZadsError('CLOSED', 'the Python filter hosts are closed'));
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      const id = this.#nextId;
      this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
      const p: Pending = { id, bytes, source, candid: options.candid, skip: 0, attempts: 0, suspect: false, resolve, reject };
      this.#pending.set(id, p);
      this.#queue.push(p);
      this.#scheduleFlush();
    });
  }

  /**
   * Counts an error against every filter for `alerts` alerts: the runner decoded the item but fastavro
   * did not (see the mixed judge), so no Python filter could judge them.
   */
  countUndecoded(alerts: number, message: string): void {
    for (let k = 0; k < alerts; k++) for (let i = 0; i < this.filters.length; i++) this.#tally.count(i, 'error', message);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After the current tick: the judge() calls of one chunk (the stream runner's Promise.all) go together.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#closing) return;
    // Free slots, the emptiest hosts first: one slot per batch a host could still take.
    const hosts = [...this.#hosts].filter((h) => !h.retired && !h.exclusive && h.batches.size < BATCHES_IN_FLIGHT);
    const idle = hosts.flatMap((h) => Array.from({ length: BATCHES_IN_FLIGHT - h.batches.size }, () => h));
    idle.sort((a, b) => a.batches.size - b.batches.size);
    for (let k = 0; k < idle.length && this.#queue.length > 0; k++) {
      const host = idle[k]!;
      if (host.exclusive || host.batches.size >= BATCHES_IN_FLIGHT) continue;
      const items: WireItem[] = [];
      if (this.#queue[0]!.suspect) {
        // A suspect goes alone to a host holding nothing else: if it kills the host, it alone is blamed.
        if (host.batches.size > 0) continue;
        const p = this.#queue.shift()!;
        items.push({ id: p.id, skip: p.skip, candid: p.candid, bytes: p.bytes });
        host.exclusive = true;
      }
      const share = Math.min(this.#maxItems, Math.ceil(this.#queue.length / (idle.length - k)));
      const alone = items.length > 0;
      let bytes = 0;
      while (!alone && this.#queue.length > 0) {
        const p = this.#queue[0]!;
        if (p.suspect || (bytes > 0 && (bytes + p.bytes.length > this.#maxBytes || items.length >= share))) break;
        this.#queue.shift();
        items.push({ id: p.id, skip: p.skip, candid: p.candid, bytes: p.bytes });
        bytes += p.bytes.length;
      }
      if (items.length === 0) continue;
      const batchId = this.#nextBatch;
      this.#nextBatch = this.#nextBatch >= 0x7fffffff ? 1 : this.#nextBatch + 1;
      host.send(batchId, items);
    }
  }

  #adopt(host: HostProcess): void {
    host.attach(this.#events);
    this.#hosts.add(host);
    // It may have died between its start and now.
    if (host.exited) this.#onExit(host, 'exited');
  }

  #onFrame(host: HostProcess, frame: HostFrame): void {
    if (frame.type === 'verdicts') {
      if (!host.batches.delete(frame.batchId)) return;
      if (host.batches.size === 0) host.exclusive = false;
      for (const answer of frame.answers) this.#settle(answer);
      this.#scheduleFlush();
    } else if (frame.type === 'hung') {
      const p = this.#pending.get(frame.itemId);
      this.#tally.count(frame.filter, 'timeout');
      if (p) p.skip |= 1 << frame.filter;
      this.#log?.warn({ filter: this.filters[frame.filter]?.name, ranMs: Math.round(frame.ranMs), hangMs: this.#spec.hangMs }, 'Python filter stuck in a call: its host is ended and another started');
      this.#replace(host, 'stuck', false);
    }
  }

  #settle(answer: ItemAnswer): void {
    const p = this.#pending.get(answer.id);
    if (!p) return;
    this.#pending.delete(answer.id);
    if (!answer.ok) {
      const code = (UNDECODABLE_CODES.has(answer.code) ? answer.code : 'ALERT_CORRUPT') as ErrorCode;
      const s = p.source;
      p.reject(new ZadsError(code, answer.message, { context: { file: s.file, member: s.member, topic: s.topic, partition: s.partition, offset: s.offset } }));
      return;
    }
    for (const e of answer.evaluations) this.#tally.record(e);
    p.resolve(verdictOf(this.filters.length, answer.alerts, answer.evaluations));
  }

  #onExit(host: HostProcess, why: string): void {
    if (this.#closing || host.retired) return;
    this.#log?.warn({ pid: host.pid, why }, 'Python filter host ended: starting another');
    this.#replace(host, why, true);
  }

  #watch(): void {
    if (this.#closing) return;
    const now = Date.now();
    for (const h of this.#hosts) {
      if (h.batches.size > 0 && !h.retired && now - h.lastHeardMs > this.#silentMs) {
        this.#log?.warn({ pid: h.pid, silentMs: now - h.lastHeardMs }, 'Python filter host silent while judging: ending it');
        this.#replace(h, `was silent for ${now - h.lastHeardMs} ms while judging`, true);
      }
    }
  }

  /**
   * Kills a host and starts another; the items it held go back to the front of the queue. `unknown`:
   * which item killed it cannot be told, so each counts an attempt and is sent alone from now on.
   */
  #replace(host: HostProcess, why: string, unknown: boolean): void {
    if (host.retired || this.#closing) return;
    host.retired = true;
    host.kill();
    this.#hosts.delete(host);
    this.#restarts++;
    const held = [...host.batches.values()].flat().map((id) => this.#pending.get(id)).filter((p): p is Pending => p !== undefined);
    host.batches.clear();
    const again: Pending[] = [];
    for (const p of held) {
      if (unknown) {
        p.attempts++;
        p.suspect = true;
      }
      if (p.attempts >= MAX_ATTEMPTS) this.#giveUp(p, why);
      else again.push(p);
    }
    this.#queue.unshift(...again.sort((a, b) => a.id - b.id));
    this.#starting++;
    HostProcess.start(this.#spec, this.filters.length).then(
      ({ host: next }) => {
        this.#starting--;
        if (this.#closing) {
          next.kill();
          return;
        }
        this.#adopt(next);
        this.#scheduleFlush();
      },
      (err: unknown) => {
        this.#starting--;
        this.#abandon(err);
      },
    );
    this.#scheduleFlush();
  }

  /** An item whose hosts kept dying: every filter not yet counted gets an error; nothing passes. */
  #giveUp(p: Pending, why: string): void {
    this.#pending.delete(p.id);
    const message = `the Python filter host ${why} on this alert ${MAX_ATTEMPTS} times`;
    for (let i = 0; i < this.filters.length; i++) if (!(p.skip & (1 << i))) this.#tally.count(i, 'error', message);
    p.resolve({ alerts: [], passed: this.filters.map(() => []) });
  }

  #abandon(err: unknown): void {
    if (this.#hosts.size > 0 || this.#starting > 0) {
      this.#log?.error({ err }, 'cannot start a new Python filter host; going on with the others');
      return;
    }
    this.#broken = new ZadsError('WORKER_FAILED', `cannot start a new Python filter host: ${(err as Error).message}`, { cause: err });
    for (const p of this.#pending.values()) p.reject(this.#broken);
    this.#pending.clear();
    this.#queue.length = 0;
  }

  /** Ends the hosts; items still in flight are rejected. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#watchdog);
      const hosts = [...this.#hosts];
      for (const h of hosts) h.retired = true;
      await Promise.all(hosts.map((h) => h.stop(2000).catch(() => h.kill())));
      this.#hosts.clear();
      const closed = new ZadsError('CLOSED', 'the Python filter hosts were closed with alerts in flight');
      for (const p of this.#pending.values()) p.reject(closed);
      this.#pending.clear();
      this.#queue.length = 0;
    })();
    return this.#closing;
  }
}
