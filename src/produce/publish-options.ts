import { z } from 'zod';
import type { ClusterConfig } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_NIGHT_PARTITIONS } from '../kafka/index.ts';
import { parseOptions, positive } from '../options.ts';
import type { PublishProgress } from './publish.ts';
import type { SourceItem } from './sources.ts';

/** Every default of {@link publishNight}'s options. */
export const PUBLISH_DEFAULTS = Object.freeze({
  partitions: DEFAULT_NIGHT_PARTITIONS,
  pacing: 'asap' as 'asap' | 'exposures',
  speed: 1,
  batchMaxBytes: 1024 * 1024,
  batchMaxMessages: 500,
  ackTimeoutMs: 30_000,
  /** Kafka client retries (connecting, metadata, creating the topic) before giving up. */
  connectTimeoutMs: 10_000,
  /** librdkafka's idempotent producer keeps the order of the batches in flight. */
  maxBatchesInFlight: 4,
  progressIntervalMs: 1000,
});

/** Options of {@link publishNight}. */
export interface PublishOptions {
  /** The cluster to publish to. Required. */
  cluster: ClusterConfig;
  /** The topic to publish to, created if missing. Required. */
  topic: string;
  /** The messages, in the order to send them. Required. */
  messages: AsyncIterable<SourceItem> | Iterable<SourceItem>;
  /** Partitions of the topic if it is created here (an existing topic keeps its own). Default {@link PUBLISH_DEFAULTS.partitions}. */
  partitions?: number;
  /** Smooth rate limit, in alerts per second; not with exposure pacing. Default: as fast as possible. */
  rateAlertsPerSec?: number;
  /** `exposures`: send each exposure's burst together, the bursts spaced as their jd says. Default {@link PUBLISH_DEFAULTS.pacing}. */
  pacing?: 'asap' | 'exposures';
  /** Time compression of exposure pacing, a factor: 1 is real time, 60 a minute of sky per second. Default {@link PUBLISH_DEFAULTS.speed}. */
  speed?: number;
  /** A batch is sent once it holds this many bytes, in bytes. Default {@link PUBLISH_DEFAULTS.batchMaxBytes}. */
  batchMaxBytes?: number;
  /** …or this many messages. Default {@link PUBLISH_DEFAULTS.batchMaxMessages}. */
  batchMaxMessages?: number;
  /** How long a broker may take to acknowledge a batch, in ms. Default {@link PUBLISH_DEFAULTS.ackTimeoutMs}. */
  ackTimeoutMs?: number;
  /**
   * Longest wait for the cluster when connecting and creating the topic, in ms; a dead broker fails after
   * it. Default {@link PUBLISH_DEFAULTS.connectTimeoutMs}.
   */
  connectTimeoutMs?: number;
  /** Batches sent and not yet acknowledged at one time. Default {@link PUBLISH_DEFAULTS.maxBatchesInFlight}. */
  maxBatchesInFlight?: number;
  /** Called with the counts so far at most every `progressIntervalMs`, and once at the end. Default: none. */
  onProgress?: (progress: PublishProgress) => void;
  /** Least time between two `onProgress` calls, in ms. Default {@link PUBLISH_DEFAULTS.progressIntervalMs}. */
  progressIntervalMs?: number;
  /** Called for each input that was skipped (it does not decode, cannot be read). Default: none. */
  onSkip?: (error: ZadsError) => void;
  /** Stops reading new messages; what was sent is still awaited and reported. Default: none. */
  signal?: AbortSignal;
  /** Where the publisher logs. Default: nowhere. */
  logger?: Logger;
}

/** The options a publisher checks, with the defaults filled in. */
const publishOptionsSchema = z.object({
  partitions: positive({ integer: true }).default(PUBLISH_DEFAULTS.partitions),
  rateAlertsPerSec: positive().optional(),
  pacing: z.enum(['asap', 'exposures']).default(PUBLISH_DEFAULTS.pacing),
  speed: positive().default(PUBLISH_DEFAULTS.speed),
  batchMaxBytes: positive({ integer: true }).default(PUBLISH_DEFAULTS.batchMaxBytes),
  batchMaxMessages: positive({ integer: true }).default(PUBLISH_DEFAULTS.batchMaxMessages),
  ackTimeoutMs: positive({ integer: true }).default(PUBLISH_DEFAULTS.ackTimeoutMs),
  connectTimeoutMs: positive({ integer: true }).default(PUBLISH_DEFAULTS.connectTimeoutMs),
  maxBatchesInFlight: positive({ integer: true }).default(PUBLISH_DEFAULTS.maxBatchesInFlight),
  progressIntervalMs: positive({ integer: true }).default(PUBLISH_DEFAULTS.progressIntervalMs),
});

export type ResolvedPublishOptions = PublishOptions & z.output<typeof publishOptionsSchema>;

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolvePublishOptions(options: PublishOptions): ResolvedPublishOptions {
  if (options.pacing === 'exposures' && options.rateAlertsPerSec !== undefined) {
    throw new ZadsError('CONFIG_INVALID', 'rateAlertsPerSec and exposure pacing exclude each other', { context: { key: 'rateAlertsPerSec' } });
  }
  return { ...options, ...parseOptions('publish', publishOptionsSchema, options) };
}
