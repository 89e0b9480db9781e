import { isAbsolute, join } from 'node:path';
import { isZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { Backoff } from '../../retry.ts';
import type { Counter, Gauge } from 'prom-client';

/** The error numbers (and SQLite result codes) that mean "no space left", which freeing space cures. */
const NO_SPACE_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);
/** SQLite's own: a write of the database or its WAL failed for lack of space, or its shared memory could not grow. */
const NO_SPACE_SQLITE = new Set(['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE']);

/** Where the space ran out: the failing error number and the file being written. */
export interface NoSpace {
  /** `ENOSPC`, `EDQUOT`, or SQLite's `SQLITE_FULL`. */
  errno: string;
  /** Absolute path of the file that could not be written. */
  file: string;
}

/**
 * Says whether a batch failed for lack of space — a segment or quarantine write (STORAGE_FULL), a bare
 * ENOSPC, or the catalogue's SQLite reporting SQLITE_FULL during its transaction — and where.
 */
export function noSpace(err: unknown, dataDir: string, cataloguePath: string): NoSpace | undefined {
  if (isZadsError(err, 'STORAGE_FULL')) {
    const cause = err.cause as NodeJS.ErrnoException | undefined;
    const key = err.context.key;
    const file = typeof key === 'string' ? (isAbsolute(key) ? key : join(dataDir, ...key.split('/'))) : (cause?.path ?? dataDir);
    return { errno: cause?.code ?? 'ENOSPC', file };
  }
  const e = err as { code?: unknown; name?: unknown; path?: unknown } | null;
  if (!e || typeof e.code !== 'string') return undefined;
  if (e.name === 'SqliteError' && NO_SPACE_SQLITE.has(e.code)) return { errno: e.code, file: cataloguePath };
  if (NO_SPACE_ERRNOS.has(e.code)) return { errno: e.code, file: typeof e.path === 'string' ? e.path : dataDir };
  return undefined;
}

/** What a paused ingest reports: since when, and why. */
export interface DiskFullState {
  /** When the first write failed, epoch ms. */
  since: number;
  errno: string;
  file: string;
  /** The log line said when it paused. */
  message: string;
}

/** What the gate needs of the batch it holds. */
export interface GatedBatch {
  isRunning(): boolean;
  isStale(): boolean;
  heartbeat(): Promise<void>;
}

export interface DiskFullGateOptions {
  dataDir: string;
  cataloguePath: string;
  /** First wait after a write found the disk full, in ms; doubled at each failed retry. */
  retryMs: number;
  /** Longest wait between retries, in ms. */
  retryMaxMs: number;
  logger?: Logger;
  /** Set to 1 while paused, 0 otherwise. */
  gauge: Gauge;
  /** Counts the retries that found the disk still full. */
  retries: Counter;
}

/** Waits are cut in slices this long so heartbeats go on and a stop is noticed, in ms. */
const SLICE_MS = 1000;

/**
 * Holds the ingest while the archive's disk is full. A batch whose segment append, fdatasync,
 * quarantine write or catalogue transaction fails with ENOSPC / SQLITE_FULL has recorded nothing: its
 * segment is cut back to the catalogue (`undo`), its offsets stay unresolved and uncommitted, and the
 * same batch is tried again after a capped backoff, heartbeating the group meanwhile — so consumption
 * stops where it is, and resumes by itself once space is freed. Should the consumer stop or the batch go
 * stale while waiting, the gate returns without recording: Kafka delivers those messages again.
 */
export class DiskFullGate {
  readonly #o: DiskFullGateOptions;
  /** No jitter: one process waits alone for its disk, with nobody to fall in step with. */
  readonly #backoff: Backoff;
  #state: DiskFullState | undefined;

  constructor(options: DiskFullGateOptions) {
    this.#o = options;
    this.#backoff = new Backoff({ initialMs: options.retryMs, maxMs: options.retryMaxMs, jitter: 0 });
  }

  /** Set while the ingest is paused on a full disk. */
  get state(): DiskFullState | undefined {
    return this.#state ? { ...this.#state } : undefined;
  }

  /**
   * Runs `step` (archive one batch) until it succeeds. `undo` runs after any failure of it, before the
   * error is rethrown or the step retried: it has to leave the segments as the catalogue records them.
   */
  async run(step: () => Promise<void>, batch: GatedBatch, undo: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        await step();
      } catch (err) {
        await undo();
        const full = noSpace(err, this.#o.dataDir, this.#o.cataloguePath);
        if (!full) throw err;
        const delayMs = this.#backoff.next();
        this.#pause(full, delayMs);
        if (!(await this.#wait(delayMs, batch))) return;
        continue;
      }
      this.#resume();
      return;
    }
  }

  #pause(full: NoSpace, delayMs: number): void {
    if (this.#state) {
      this.#o.retries.inc();
      this.#o.logger?.debug({ errno: full.errno, file: full.file, retryInMs: delayMs }, 'archive disk still full');
      return;
    }
    const message =
      `archive disk full at ${this.#o.dataDir} (${full.errno} while writing ${full.file}): ingest paused, nothing lost; ` +
      `retrying every ${this.#o.retryMs / 1000}s, backing off to every ${this.#o.retryMaxMs / 1000}s, until there is space`;
    this.#state = { since: Date.now(), errno: full.errno, file: full.file, message };
    this.#o.gauge.set(1);
    this.#o.logger?.warn({ dataDir: this.#o.dataDir, errno: full.errno, file: full.file }, message);
  }

  #resume(): void {
    this.#backoff.reset();
    const state = this.#state;
    if (!state) return;
    this.#state = undefined;
    this.#o.gauge.set(0);
    const pausedSeconds = Math.round((Date.now() - state.since) / 1000);
    // Warn, like the pause: whoever watches warnings for the pause has to see it end.
    this.#o.logger?.warn({ dataDir: this.#o.dataDir, pausedSeconds }, `archive disk has space again at ${this.#o.dataDir}: ingest resumed after ${pausedSeconds}s paused, nothing lost`);
  }

  /** Waits `ms` while the batch is still ours; false when the consumer stopped or the batch went stale. */
  async #wait(ms: number, batch: GatedBatch): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      if (!batch.isRunning() || batch.isStale()) return false;
      const left = until - Date.now();
      if (left <= 0) return true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, SLICE_MS)));
      await batch.heartbeat();
    }
  }
}
