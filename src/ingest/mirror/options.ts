import { randomUUID } from 'node:crypto';
import type { ClusterConfig } from '../../config/index.ts';
import { ZadsError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Registry } from '../../metrics.ts';
import { NIGHT_TOPIC_PATTERN } from '../../kafka/index.ts';
import { positiveOption } from '../../options.ts';

/** Options of a {@link Mirror}. */
export interface MirrorOptions {
  /** The cluster read from (IPAC). */
  from: ClusterConfig;
  /** The cluster written to (UW); the mirrored positions are stored here too. */
  to: ClusterConfig;
  /** Topics to mirror, matched against whole names. Default `^ztf_\d{8}_programid\d+$`. */
  topics?: RegExp;
  /**
   * Names this mirror: its consumer group on the source (`zads-mirror-<name>`), which shares the source
   * partitions among every process running a mirror of that name, and the group holding its positions on
   * the target. Default "default".
   */
  name?: string;
  /**
   * This process among the mirrors of the same name: its transactional id on the target is
   * `zads-mirror-<name>-<instance>`. A restart with the same instance fences the old process at once;
   * default a random id (a killed process's open transaction is then aborted by the coordinator after
   * `transactionTimeoutMs`).
   */
  instance?: string;
  /** How long the target's coordinator keeps a dead process's open transaction, in ms. Default 10,000. */
  transactionTimeoutMs?: number;
  /**
   * Configs of the topics the mirror creates on the target. Default: ZADS's 7-day hot cache
   * (`retention.ms` 604,800,000) and `max.message.bytes` 16 MiB. These win over the source topic's configs,
   * which the client cannot read (its admin API has no DescribeConfigs).
   */
  targetTopicConfigs?: Record<string, string>;
  /** How often the source is listed for new topics, in ms. Default 1000 (MirrorMaker 2: 600,000). */
  discoveryIntervalMs?: number;
  /** Most bytes mirrored in one target transaction, in bytes. Default 4 MiB (topics allow 16 MiB). */
  maxTransactionBytes?: number;
  /** Most bytes fetched from one source partition per request, in bytes. Default 8 MiB. */
  maxFetchBytesPerPartition?: number;
  /** How often a throughput and lag line is logged, in ms. Default 10,000; 0 turns it off. */
  reportIntervalMs?: number;
  logger?: Logger;
  /** Where the mirror's Prometheus metrics go; a private registry when absent. */
  metrics?: Registry;
}

export const DEFAULT_MIRROR_TOPICS = NIGHT_TOPIC_PATTERN;
export const DEFAULT_DISCOVERY_INTERVAL_MS = 1000;
export const DEFAULT_MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_FETCH_BYTES_PER_PARTITION = 8 * 1024 * 1024;
export const DEFAULT_REPORT_INTERVAL_MS = 10_000;
export const DEFAULT_MIRROR_TRANSACTION_TIMEOUT_MS = 10_000;
/** ZADS keeps a week of alerts in Kafka as a hot cache; the archive holds everything. */
export const DEFAULT_TARGET_TOPIC_CONFIGS: Record<string, string> = { 'retention.ms': String(7 * 24 * 3600 * 1000), 'max.message.bytes': '16777216' };

export type ResolvedMirrorOptions = Required<Omit<MirrorOptions, 'logger' | 'metrics'>> & Pick<MirrorOptions, 'logger' | 'metrics'>;

const positive = (key: string, value: number, allowZero = false) => positiveOption('mirror', key, value, { allowZero });

function checkName(key: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
    throw new ZadsError('CONFIG_INVALID', `mirror ${key} ${JSON.stringify(name)} may hold only letters, digits, ".", "_" and "-"`, {
      context: { key },
    });
  }
  return name;
}

/** Fills in the defaults and checks every option; the caller's object is left untouched. */
export function resolveMirrorOptions(options: MirrorOptions): ResolvedMirrorOptions {
  const name = checkName('name', options.name ?? 'default');
  return {
    from: options.from,
    to: options.to,
    topics: options.topics ?? DEFAULT_MIRROR_TOPICS,
    name,
    instance: checkName('instance', options.instance ?? randomUUID().slice(0, 8)),
    transactionTimeoutMs: positive('transactionTimeoutMs', options.transactionTimeoutMs ?? DEFAULT_MIRROR_TRANSACTION_TIMEOUT_MS),
    targetTopicConfigs: { ...DEFAULT_TARGET_TOPIC_CONFIGS, ...options.targetTopicConfigs },
    discoveryIntervalMs: positive('discoveryIntervalMs', options.discoveryIntervalMs ?? DEFAULT_DISCOVERY_INTERVAL_MS),
    maxTransactionBytes: positive('maxTransactionBytes', options.maxTransactionBytes ?? DEFAULT_MAX_TRANSACTION_BYTES),
    maxFetchBytesPerPartition: positive('maxFetchBytesPerPartition', options.maxFetchBytesPerPartition ?? DEFAULT_MAX_FETCH_BYTES_PER_PARTITION),
    reportIntervalMs: positive('reportIntervalMs', options.reportIntervalMs ?? DEFAULT_REPORT_INTERVAL_MS, true),
    logger: options.logger,
    metrics: options.metrics,
  };
}
