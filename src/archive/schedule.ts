import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { z } from 'zod';
import { toZadsError } from '../errors.ts';
import type { ZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseOptions, positive } from '../options.ts';
import { Backoff } from '../retry.ts';
import type { Archive } from './archive.ts';
import type { NightRow } from './catalogue/index.ts';
import { closeNight } from './close/index.ts';
import type { CloseNightOptions, CloseReport } from './close/index.ts';
import { retriableSyncError, syncRemote } from './remote/index.ts';
import type { SyncRemoteOptions, SyncRemoteResult } from './remote/index.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

/** Every default of {@link startCloseSchedule}'s options. */
export const CLOSE_SCHEDULE_DEFAULTS = Object.freeze({
  remoteRetryMs: 5_000,
  /** 5 min. */
  remoteRetryMaxMs: 300_000,
});

export interface IdleNightsOptions {
  /** A night is idle once no alert arrived for this long, in minutes (config `archive.closeIdleMinutes`). Required. */
  idleMinutes: number;
  /** The clock, in epoch ms. Default: `Date.now`. */
  now?: () => number;
}

/** Settings of one close, shared by every night a tick closes. */
export type ScheduledCloseOptions = Omit<CloseNightOptions, 'night' | 'programid' | 'force'>;

export interface CloseIdleResult {
  closed: CloseReport[];
  failed: { night: string; programid: number; error: ZadsError }[];
  /** What the S3 step did, when `remote` was given and the archive has an S3 store. */
  remote?: SyncRemoteResult;
}

export interface CloseScheduleOptions extends IdleNightsOptions {
  /** When to look for idle nights: cron, 5 fields or 6 with seconds first, evaluated in UTC (config `archive.closeSchedule`). Required. */
  cronExpression: string;
  /** Called with the report of each night closed. Default: none. */
  onClosed?: (report: CloseReport) => void;
  /** Called for each night whose close failed; the tick goes on with the next night. Default: none. */
  onError?: (error: ZadsError, night: { night: string; programid: number }) => void;
  /** How each night is closed. Default: {@link closeNight}'s defaults. */
  close?: ScheduledCloseOptions;
  /**
   * After the closes, upload closed nights to S3 and apply retention (remote/sync.ts); needs an archive
   * opened with S3. Default: none, the schedule only closes.
   */
  remote?: Omit<SyncRemoteOptions, 'logger'>;
  /**
   * When the S3 step found S3 unreachable (a retriable error), it is tried again on its own — without
   * waiting for the next tick — after this many ms, doubled at each failed try. Default {@link CLOSE_SCHEDULE_DEFAULTS.remoteRetryMs}.
   */
  remoteRetryMs?: number;
  /** Longest wait between two tries of the S3 step, in ms; never less than `remoteRetryMs`. Default {@link CLOSE_SCHEDULE_DEFAULTS.remoteRetryMaxMs}. */
  remoteRetryMaxMs?: number;
  /** Where the schedule logs. Default: nowhere. */
  logger?: Logger;
}

/** The options a schedule checks, with the defaults filled in. */
const closeScheduleOptionsSchema = z.object({
  cronExpression: z.custom<string>((v) => typeof v === 'string' && cron.validate(v), {
    error: 'must be a cron expression (5 fields, or 6 with seconds; config archive.closeSchedule)',
  }),
  idleMinutes: positive({ allowZero: true }),
  remoteRetryMs: positive().default(CLOSE_SCHEDULE_DEFAULTS.remoteRetryMs),
  remoteRetryMaxMs: positive().default(CLOSE_SCHEDULE_DEFAULTS.remoteRetryMaxMs),
});

export interface CloseSchedule {
  /** Does what a tick does, now, and resolves when it is done (a tick already running is waited for). */
  runOnce(): Promise<CloseIdleResult>;
  /** Stops the schedule and waits for a running tick; idempotent (returns the same promise). */
  stop(): Promise<void>;
}

/**
 * When a night last saw activity: its last alert, or — for a night that never had one — the end of its
 * UTC date (the topic's date), so an empty night is closed once its day is over and idle long enough.
 */
function lastActivity(row: NightRow): number {
  if (row.lastAlertAt !== null) return row.lastAlertAt;
  const y = Number(row.night.slice(0, 4));
  const m = Number(row.night.slice(4, 6));
  const d = Number(row.night.slice(6, 8));
  return Date.UTC(y, m - 1, d) + MS_PER_DAY;
}

/** Open nights with no alert for `idleMinutes` (and empty nights whose day ended as long ago), oldest first. */
export function idleNights(archive: Archive, options: IdleNightsOptions): NightRow[] {
  const now = (options.now ?? Date.now)();
  const idleMs = options.idleMinutes * MS_PER_MINUTE;
  return archive.catalogue.nights().filter((n) => n.state === 'open' && now - lastActivity(n) >= idleMs);
}

/** Closes every idle night, one at a time; a failed night is reported and the others are still closed. */
export async function closeIdleNights(
  archive: Archive,
  options: IdleNightsOptions & { close?: ScheduledCloseOptions; onClosed?: CloseScheduleOptions['onClosed']; onError?: CloseScheduleOptions['onError']; logger?: Logger },
): Promise<CloseIdleResult> {
  const result: CloseIdleResult = { closed: [], failed: [] };
  for (const n of idleNights(archive, options)) {
    const { night, programid } = n;
    try {
      const report = await closeNight(archive, { logger: options.logger, ...options.close, night, programid });
      result.closed.push(report);
      options.onClosed?.(report);
    } catch (err) {
      const error = toZadsError(err, { night, programid });
      options.logger?.error({ night, programid, err: error }, 'scheduled close failed');
      result.failed.push({ night, programid, error });
      options.onError?.(error, { night, programid });
    }
  }
  return result;
}

/**
 * Closes idle nights on a node-cron schedule (UTC). Each tick runs `closeIdleNights` (then, with
 * `remote`, uploads and retention); a tick that comes while the previous one still runs is skipped. The first tick is the first time the expression matches.
 * Closes need only the local disk: with S3 down they succeed, the uploads fail (SERVICE_UNAVAILABLE),
 * nothing is pruned that S3 does not hold, and the S3 step is tried again by itself with a capped
 * backoff (`remoteRetryMs` … `remoteRetryMaxMs`) until it goes through — not only at the next tick.
 */
export function startCloseSchedule(archive: Archive, options: CloseScheduleOptions): CloseSchedule {
  const checked = parseOptions('close schedule', closeScheduleOptionsSchema, options);
  const retryMs = checked.remoteRetryMs;
  const retryMaxMs = Math.max(checked.remoteRetryMaxMs, retryMs);
  let running: Promise<CloseIdleResult> | undefined;
  let retrying: Promise<SyncRemoteResult> | undefined;
  let stopping: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  // No jitter: one schedule per archive retries its own uploads, with nobody to fall in step with.
  const remoteBackoff = new Backoff({ initialMs: retryMs, maxMs: retryMaxMs, jitter: 0 });
  const remote = options.remote && archive.remote ? options.remote : undefined;

  /** S3 down: keep the local copies (sync never prunes what it cannot check) and try again, backing off. */
  const afterSync = (result: SyncRemoteResult): void => {
    const error = retriableSyncError(result);
    if (!error) {
      if (remoteBackoff.attempts > 0) {
        options.logger?.warn({ uploaded: result.uploaded.map((u) => `${u.night}/${u.programid}`) }, `S3 reachable again: ${result.uploaded.length} night(s) uploaded`);
      }
      remoteBackoff.reset();
      return;
    }
    const delayMs = remoteBackoff.next();
    const waiting = result.failed.length;
    const line =
      `S3 unavailable (${error.code}): ${error.message}; ${waiting} closed night(s) wait for upload, local copies kept (not pruned); ` +
      `trying again in ${delayMs / 1000}s (backing off to every ${retryMaxMs / 1000}s)`;
    if (remoteBackoff.attempts === 1) options.logger?.warn({ err: error, waiting, retryInMs: delayMs }, line);
    else options.logger?.info({ err: error, waiting, retryInMs: delayMs }, line);
    if (stopping) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(retryRemote, delayMs);
  };
  const sync = async (): Promise<SyncRemoteResult> => {
    const result = await syncRemote(archive, { ...remote, logger: options.logger });
    afterSync(result);
    return result;
  };
  const tick = async (): Promise<CloseIdleResult> => {
    const result = await closeIdleNights(archive, options);
    if (remote) result.remote = await sync();
    return result;
  };
  const runOnce = (): Promise<CloseIdleResult> => {
    running ??= (async () => {
      await retrying?.catch(() => undefined);
      return tick();
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  /** The S3 step alone, between ticks; a tick running now does it anyway (and re-arms the retry if need be). */
  function retryRemote(): void {
    retryTimer = undefined;
    if (stopping || running || retrying) return;
    retrying = sync().finally(() => {
      retrying = undefined;
    });
    retrying.catch((err: unknown) => options.logger?.error({ err }, 'S3 retry failed'));
  }
  const task: ScheduledTask = cron.schedule(
    options.cronExpression,
    async () => {
      if (running || stopping) return;
      await runOnce();
    },
    { timezone: 'UTC', name: 'zads-night-close', noOverlap: true },
  );
  return {
    runOnce,
    stop() {
      stopping ??= (async () => {
        clearTimeout(retryTimer);
        try {
          await task.destroy();
        } finally {
          await running?.catch(() => undefined);
          await retrying?.catch(() => undefined);
        }
      })();
      return stopping;
    },
  };
}
