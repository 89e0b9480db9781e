import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ClusterConfig } from '../../config/index.ts';
import type { Logger } from '../../log.ts';
import type { Registry } from '../../metrics.ts';
import { NIGHT_TOPIC_PATTERN } from '../../kafka/index.ts';
import { parseOptions, positive } from '../../options.ts';

/** Every default of a {@link Mirror}'s options. */
export const MIRROR_DEFAULTS = Object.freeze({
  topics: NIGHT_TOPIC_PATTERN,
  name: 'default',
  transactionTimeoutMs: 10_000,
  /** ZADS keeps a week of alerts in Kafka as a hot cache; the archive holds everything. */
  targetTopicConfigs: Object.freeze({ 'retention.ms': String(7 * 24 * 3600 * 1000), 'max.message.bytes': '16777216' }),
  /** MirrorMaker 2 lists every 600,000 ms; a new night's first alerts should not wait that long. */
  discoveryIntervalMs: 1000,
  /** Topics allow 16 MiB. */
  maxTransactionBytes: 4 * 1024 * 1024,
  maxFetchBytesPerPartition: 8 * 1024 * 1024,
  reportIntervalMs: 10_000,
});

/** Options of a {@link Mirror}. */
export interface MirrorOptions {
  /** The cluster read from (IPAC). Required. */
  from: ClusterConfig;
  /** The cluster written to (UW); the mirrored positions are stored here too. Required. */
  to: ClusterConfig;
  /** Topics to mirror, matched against whole names. Default {@link MIRROR_DEFAULTS.topics}. */
  topics?: RegExp;
  /**
   * Names this mirror: its consumer group on the source (`zads-mirror-<name>`), which shares the source
   * partitions among every process running a mirror of that name, and the group holding its positions on
   * the target. 1-100 of A-Z, a-z, 0-9, ".", "_", "-". Default {@link MIRROR_DEFAULTS.name}.
   */
  name?: string;
  /**
   * This process among the mirrors of the same name: its transactional id on the target is
   * `zads-mirror-<name>-<instance>`. A restart with the same instance fences the old process at once.
   * Default: a random id (a killed process's open transaction is then aborted by the coordinator after
   * `transactionTimeoutMs`).
   */
  instance?: string;
  /** How long the target's coordinator keeps a dead process's open transaction, in ms. Default {@link MIRROR_DEFAULTS.transactionTimeoutMs}. */
  transactionTimeoutMs?: number;
  /**
   * Configs of the topics the mirror creates on the target, added over the defaults. These win over the
   * source topic's configs, which the client cannot read (its admin API has no DescribeConfigs). Default
   * {@link MIRROR_DEFAULTS.targetTopicConfigs}: ZADS's 7-day hot cache and 16 MiB messages.
   */
  targetTopicConfigs?: Record<string, string>;
  /** How often the source is listed for new topics, in ms. Default {@link MIRROR_DEFAULTS.discoveryIntervalMs}. */
  discoveryIntervalMs?: number;
  /** Most bytes mirrored in one target transaction, in bytes. Default {@link MIRROR_DEFAULTS.maxTransactionBytes}. */
  maxTransactionBytes?: number;
  /** Most bytes fetched from one source partition per request, in bytes. Default {@link MIRROR_DEFAULTS.maxFetchBytesPerPartition}. */
  maxFetchBytesPerPartition?: number;
  /** How often a throughput and lag line is logged, in ms; 0 turns it off. Default {@link MIRROR_DEFAULTS.reportIntervalMs}. */
  reportIntervalMs?: number;
  /** Where the mirror logs. Default: nowhere. */
  logger?: Logger;
  /** Where the mirror's Prometheus metrics go. Default: a private registry. */
  metrics?: Registry;
}

export type ResolvedMirrorOptions = Required<Omit<MirrorOptions, 'logger' | 'metrics'>> & Pick<MirrorOptions, 'logger' | 'metrics'>;

/** A group or transactional id part. */
const idPart = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'must hold only letters, digits, ".", "_" and "-" (1-100)');

/** The options a mirror checks (the clusters are checked by the config schema), with the defaults filled in. */
const mirrorOptionsSchema = z.object({
  topics: z.instanceof(RegExp).default(MIRROR_DEFAULTS.topics),
  name: idPart.default(MIRROR_DEFAULTS.name),
  instance: idPart.default(() => randomUUID().slice(0, 8)),
  transactionTimeoutMs: positive().default(MIRROR_DEFAULTS.transactionTimeoutMs),
  targetTopicConfigs: z
    .record(z.string(), z.string())
    .optional()
    .transform((configs) => ({ ...MIRROR_DEFAULTS.targetTopicConfigs, ...configs })),
  discoveryIntervalMs: positive().default(MIRROR_DEFAULTS.discoveryIntervalMs),
  maxTransactionBytes: positive().default(MIRROR_DEFAULTS.maxTransactionBytes),
  maxFetchBytesPerPartition: positive().default(MIRROR_DEFAULTS.maxFetchBytesPerPartition),
  reportIntervalMs: positive({ allowZero: true }).default(MIRROR_DEFAULTS.reportIntervalMs),
});

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolveMirrorOptions(options: MirrorOptions): ResolvedMirrorOptions {
  const checked = parseOptions('mirror', mirrorOptionsSchema, options);
  return { from: options.from, to: options.to, ...checked, logger: options.logger, metrics: options.metrics };
}
