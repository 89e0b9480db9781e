import { z } from 'zod';
import type { Logger } from '../../log.ts';
import { parseOptions, positive } from '../../options.ts';
import type { CloseProgress } from './close-night.ts';
import { DEFAULT_GZIP_LEVEL } from './write-tarball.ts';

/** Every default of {@link closeNight}'s options. */
export const CLOSE_DEFAULTS = Object.freeze({
  force: false,
  /** zlib's and `gzip`'s default. */
  gzipLevel: DEFAULT_GZIP_LEVEL,
  /** ~1 MB of alerts. */
  readAheadAlerts: 16,
  maxAttempts: 3,
});

/** Options of {@link closeNight}. */
export interface CloseNightOptions {
  /** The night, YYYYMMDD (the UTC date of its topic). Required. */
  night: string;
  /** 1 public, 2 partnership, others as `ztf_programidN`. Required. */
  programid: number;
  /** Rebuild the tarball of a night that is already closed (false: a closed night is left as it is). Default {@link CLOSE_DEFAULTS.force}. */
  force?: boolean;
  /** gzip level, 0 (stored) to 9 (smallest). Default {@link CLOSE_DEFAULTS.gzipLevel}. */
  gzipLevel?: number;
  /**
   * Alerts read ahead of the tar writer (from disk or S3): the compressing workers find the next block
   * ready even when the main thread was off the CPU for a while. Default {@link CLOSE_DEFAULTS.readAheadAlerts}.
   */
  readAheadAlerts?: number;
  /**
   * Attempts when alerts of the night arrive while it is being closed (an ingest in the same process):
   * the tarball is then built again with them; after the last the night stays open for the next close.
   * Default {@link CLOSE_DEFAULTS.maxAttempts}.
   */
  maxAttempts?: number;
  /** Called after each member is written. Default: none. */
  onProgress?: (progress: CloseProgress) => void;
  /** Where the close logs. Default: nowhere. */
  logger?: Logger;
}

export type ResolvedCloseNightOptions = CloseNightOptions & Required<Pick<CloseNightOptions, 'force' | 'gzipLevel' | 'readAheadAlerts' | 'maxAttempts'>>;

/** The options a close checks (the night by `checkNight`), with the defaults filled in. */
const closeNightOptionsSchema = z.object({
  force: z.boolean().default(CLOSE_DEFAULTS.force),
  gzipLevel: z.custom<number>((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 9, { error: 'must be a whole number from 0 to 9' }).default(CLOSE_DEFAULTS.gzipLevel),
  readAheadAlerts: positive({ integer: true }).default(CLOSE_DEFAULTS.readAheadAlerts),
  maxAttempts: positive({ integer: true }).default(CLOSE_DEFAULTS.maxAttempts),
});

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolveCloseNightOptions(options: CloseNightOptions): ResolvedCloseNightOptions {
  return { ...options, ...parseOptions('close', closeNightOptionsSchema, options) };
}
