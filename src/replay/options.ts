import { z } from 'zod';
import type { Archive } from '../archive/index.ts';
import type { ClusterConfig } from '../config/index.ts';
import type { Judge } from '../filter/index.ts';
import { DEFAULT_NIGHT_PARTITIONS } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';
import { parseOptions, positive } from '../options.ts';

/** How a replay spaces its messages in time. */
export type Pacing =
  /** As fast as the target takes them. */
  | { mode: 'max' }
  /** A steady rate; `bursts` sends each exposure (alerts sharing a jd) at once, keeping the average rate. */
  | { mode: 'rate'; alertsPerSec: number; bursts?: boolean }
  /** The original arrival times (Kafka timestamps), `factor` times faster. */
  | { mode: 'speed'; factor: number };

/** Which archived alerts a replay sends. */
export interface ReplaySelection {
  night: string;
  programid: number;
  /** Only alerts with jd ≥ fromJd. */
  fromJd?: number;
  /** Only alerts with jd < toJd. */
  toJd?: number;
  /** Only these objects. */
  objectIds?: string[];
}

/** Every default of a {@link Replay}'s options. */
export const REPLAY_DEFAULTS = Object.freeze({
  allowProtectedTopic: false,
  partitions: DEFAULT_NIGHT_PARTITIONS,
  pacing: Object.freeze({ mode: 'max' as const }),
  maxBatchAlerts: 500,
  // ~490 real-size alerts a transaction: measured at max rate (20,000 alerts of 67 KB), 8 MiB → 32 MiB took
  // 263 → 341 MB/s (four alternating runs each): the commit's round trips are paid 4× less often. One batch is
  // held at a time (the next is read once its transaction commits).
  maxBatchBytes: 32 * 1024 * 1024,
});

/** Options of a {@link Replay}. */
export interface ReplayOptions {
  /**
   * Names the replay: its transactional id, its checkpoint key and the `zads-replay-id` header; 1-100 of
   * A-Z, a-z, 0-9, ".", "_", "-". A restart with the same id resumes. Required.
   */
  id: string;
  /** The archive read from. Required. */
  archive: Archive;
  /** Which archived alerts to send. Required. */
  selection: ReplaySelection;
  /** Cluster written to. Required. */
  target: ClusterConfig;
  /** Topic written to, created if missing. Default: `<night topic>_replay` ({@link defaultReplayTopic}). */
  topic?: string;
  /**
   * Write the topic even if it is protected (upstream nightly, filter output, internal): set only from a
   * ReplayTargetPolicy decision made by an explicit, logged override. Default {@link REPLAY_DEFAULTS.allowProtectedTopic}.
   */
  allowProtectedTopic?: boolean;
  /** Partitions of a target topic created here. Default {@link REPLAY_DEFAULTS.partitions}. */
  partitions?: number;
  /** How messages are spaced in time. Default {@link REPLAY_DEFAULTS.pacing}: as fast as the target takes them. */
  pacing?: Pacing;
  /** Stop after this many alerts (archive and live together). Default: no limit. */
  maxAlerts?: number;
  /**
   * After the archive, go on with the live topic of the night on `liveCluster`, from the first offset of
   * each partition the archive did not hold. Default: the archive only.
   */
  thenLive?: { liveCluster: ClusterConfig; /** End the live part after this long with nothing new, in ms. Default: never. */ idleStopMs?: number };
  /**
   * Re-publish only the alerts that pass at least one of these filters (e.g. `createJudge(['purity',
   * 'my_filter.py'])`), archive and live part alike; the report counts judged, passed and failed alerts.
   * It stays the caller's to close. Default: every alert.
   */
  filter?: Judge;
  /** Most messages in one transaction (with its checkpoint). Default {@link REPLAY_DEFAULTS.maxBatchAlerts}. */
  maxBatchAlerts?: number;
  /** Most bytes in one transaction, in bytes. Default {@link REPLAY_DEFAULTS.maxBatchBytes}. */
  maxBatchBytes?: number;
  /** Where the replay logs. Default: nowhere. */
  logger?: Logger;
  /** Where the replay's Prometheus metrics go. Default: a private registry. */
  metrics?: Registry;
}

/** A replay's options with the defaults filled in. */
export type ResolvedReplayOptions = ReplayOptions & Required<Pick<ReplayOptions, 'topic' | 'allowProtectedTopic' | 'partitions' | 'pacing' | 'maxBatchAlerts' | 'maxBatchBytes'>>;

export function defaultReplayTopic(night: string, programid: number): string {
  return `ztf_${night}_programid${programid}_replay`;
}

const pacingSchema = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('max') }),
    z.object({ mode: z.literal('rate'), alertsPerSec: positive(), bursts: z.boolean().optional() }),
    z.object({ mode: z.literal('speed'), factor: positive() }),
  ],
  { error: 'must be { mode: "max" }, { mode: "rate", alertsPerSec } or { mode: "speed", factor }' },
);

/** The options a replay checks (the clusters are checked by the config schema), with the defaults filled in. */
const replayOptionsSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must hold only letters, digits, ".", "_" and "-" (1-100)'),
  topic: z.string().optional(),
  allowProtectedTopic: z.boolean().default(REPLAY_DEFAULTS.allowProtectedTopic),
  partitions: positive({ integer: true }).default(REPLAY_DEFAULTS.partitions),
  pacing: pacingSchema.default(REPLAY_DEFAULTS.pacing),
  maxAlerts: positive({ integer: true, allowZero: true }).optional(),
  thenLive: z.object({ liveCluster: z.custom<ClusterConfig>(), idleStopMs: positive().optional() }).optional(),
  maxBatchAlerts: positive({ integer: true }).default(REPLAY_DEFAULTS.maxBatchAlerts),
  maxBatchBytes: positive().default(REPLAY_DEFAULTS.maxBatchBytes),
});

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolveReplayOptions(options: ReplayOptions): ResolvedReplayOptions {
  const checked = parseOptions('replay', replayOptionsSchema, options);
  return { ...options, ...checked, topic: checked.topic ?? defaultReplayTopic(options.selection.night, options.selection.programid) };
}
