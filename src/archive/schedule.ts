import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { ZadsError, toZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Archive } from './archive.ts';
import type { NightRow } from './catalogue/index.ts';
import { closeNight } from './close/index.ts';
import type { CloseNightOptions, CloseReport } from './close/index.ts';
import { syncRemote } from './remote/index.ts';
import type { SyncRemoteOptions, SyncRemoteResult } from './remote/index.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

export interface IdleNightsOptions {
  /** A night is idle once no alert arrived for this long, in minutes. */
  idleMinutes: number;
  /** The clock, epoch ms. Default Date.now. */
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
  /** When to look for idle nights: cron, 5 fields or 6 with seconds first, evaluated in UTC (config `archive.closeSchedule`). */
  cronExpression: string;
  /** Called with the report of each night closed. */
  onClosed?: (report: CloseReport) => void;
  /** Called for each night whose close failed; the tick goes on with the next night. */
  onError?: (error: ZadsError, night: { night: string; programid: number }) => void;
  close?: ScheduledCloseOptions;
  /**
   * After the closes, upload closed nights to S3 and apply retention (remote/sync.ts); needs an archive
   * opened with S3. Absent: the schedule only closes.
   */
  remote?: Omit<SyncRemoteOptions, 'logger'>;
  logger?: Logger;
}

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
      options.logger?.error({ night, programid, err: error.toJSON() }, 'scheduled close failed');
      result.failed.push({ night, programid, error });
      options.onError?.(error, { night, programid });
    }
  }
  return result;
}

/**
 * Closes idle nights on a node-cron schedule (UTC). Each tick runs `closeIdleNights` (then, with
 * `remote`, uploads and retention); a tick that comes while the previous one still runs is skipped. The first tick is the first time the expression matches.
 */
export function startCloseSchedule(archive: Archive, options: CloseScheduleOptions): CloseSchedule {
  if (!cron.validate(options.cronExpression)) {
    throw new ZadsError('CONFIG_INVALID', `archive.closeSchedule ${JSON.stringify(options.cronExpression)} is not a cron expression (5 fields, or 6 with seconds)`, {
      context: { key: 'archive.closeSchedule' },
    });
  }
  if (!Number.isFinite(options.idleMinutes) || options.idleMinutes < 0) {
    throw new ZadsError('CONFIG_INVALID', `archive.closeIdleMinutes must be ≥ 0, not ${options.idleMinutes}`, { context: { key: 'archive.closeIdleMinutes' } });
  }
  let running: Promise<CloseIdleResult> | undefined;
  let stopping: Promise<void> | undefined;
  const tick = async (): Promise<CloseIdleResult> => {
    const result = await closeIdleNights(archive, options);
    if (options.remote && archive.remote) result.remote = await syncRemote(archive, { ...options.remote, logger: options.logger });
    return result;
  };
  const runOnce = (): Promise<CloseIdleResult> => {
    running ??= tick().finally(() => {
      running = undefined;
    });
    return running;
  };
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
        try {
          await task.destroy();
        } finally {
          await running?.catch(() => undefined);
        }
      })();
      return stopping;
    },
  };
}
