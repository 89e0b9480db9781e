import type { Archive } from '../archive/index.ts';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import type { Judge } from '../filter/index.ts';
import type { Logger } from '../log.ts';
import type { Registry } from '../metrics.ts';

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

/** Options of a {@link Replay}. */
export interface ReplayOptions {
  /** Names the replay: its transactional id, its checkpoint key and the `zads-replay-id` header. A restart with the same id resumes. */
  id: string;
  archive: Archive;
  selection: ReplaySelection;
  /** Cluster written to. */
  target: ClusterConfig;
  /** Topic written to; default `<night topic>_replay`. Created if missing. */
  topic?: string;
  /**
   * Write the topic even if it is protected (upstream nightly, filter output, internal): set only from a
   * ReplayTargetPolicy decision made by an explicit, logged override. Default false.
   */
  allowProtectedTopic?: boolean;
  /** Partitions of a target topic created here. Default 16. */
  partitions?: number;
  pacing?: Pacing;
  /** Stop after this many alerts (archive and live together). */
  maxAlerts?: number;
  /**
   * After the archive, go on with the live topic of the night on `liveCluster`, from the first offset of
   * each partition the archive did not hold.
   */
  thenLive?: { liveCluster: ClusterConfig; /** End the live part after this long with nothing new, in ms; default: never. */ idleStopMs?: number };
  /**
   * Re-publish only the alerts that pass at least one of these filters (e.g. `createJudge(['purity',
   * 'my_filter.py'])`), archive and live part alike; the report counts judged, passed and failed alerts.
   * It stays the caller's to close.
   */
  filter?: Judge;
  /** Most messages in one transaction (with its checkpoint). Default 500. */
  maxBatchAlerts?: number;
  /** Most bytes in one transaction. Default 8 MiB. */
  maxBatchBytes?: number;
  logger?: Logger;
  metrics?: Registry;
}

export function defaultReplayTopic(night: string, programid: number): string {
  return `ztf_${night}_programid${programid}_replay`;
}

export function checkPacing(p: Pacing): Pacing {
  const bad = (what: string): never => {
    throw new ZadsError('CONFIG_INVALID', `replay pacing: ${what}`, { context: { key: 'pacing' } });
  };
  if (p.mode === 'rate' && !(p.alertsPerSec > 0 && Number.isFinite(p.alertsPerSec))) bad(`rate must be a positive number of alerts/s, not ${p.alertsPerSec}`);
  if (p.mode === 'speed' && !(p.factor > 0 && Number.isFinite(p.factor))) bad(`speed must be a positive factor, not ${p.factor}`);
  return p;
}

export function checkReplayId(id: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(id)) {
    throw new ZadsError('CONFIG_INVALID', `replay id ${JSON.stringify(id)} may hold only letters, digits, ".", "_" and "-" (1-100)`, { context: { key: 'id' } });
  }
  return id;
}
