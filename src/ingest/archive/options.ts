import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Archive } from '../../archive/index.ts';
import type { ClusterConfig } from '../../config/index.ts';
import type { Logger } from '../../log.ts';
import type { Registry } from '../../metrics.ts';
import { NIGHT_TOPIC_PATTERN } from '../../kafka/index.ts';
import { positiveOption } from '../../options.ts';

/** Options of an {@link ArchiveIngest}. */
export interface ArchiveIngestOptions {
  /** The cluster read from (UW). */
  cluster: ClusterConfig;
  /** The archive written to, opened as writer (`openArchive({ writer: true })`). */
  archive: Archive;
  /** Nightly topics to archive (whole-name match); each name must carry its night. Default `^ztf_\d{8}_programid\d+$`. */
  topics?: RegExp;
  /** Consumer group on the cluster. Default "zads-archive". */
  groupId?: string;
  /**
   * Static group membership id (KIP-345). The archive is one writer per data folder, so the id follows the
   * folder (default `zads-archive-<hash of the data folder's path>`): an archiver restarted after a crash gets
   * its partitions back at once instead of waiting out the dead process's session.
   */
  groupInstanceId?: string;
  /** Group session timeout, in ms: a restart within it is seen as the same member. Default 30,000. */
  sessionTimeoutMs?: number;
  /** How often the cluster is listed for new nightly topics, in ms. Default 1000. */
  discoveryIntervalMs?: number;
  /** Most bytes fetched from one partition per request, in bytes; bounds a batch and memory. Default 8 MiB. */
  maxFetchBytesPerPartition?: number;
  /** How often a progress line is logged, in ms; 0 turns it off. Default 10,000. */
  reportIntervalMs?: number;
  /**
   * First wait before a batch that found the disk full (ENOSPC, SQLITE_FULL) is tried again, in ms;
   * doubled at each failed retry up to `diskFullRetryMaxMs`. Default 1000.
   */
  diskFullRetryMs?: number;
  /** Longest wait between two tries of a batch while the disk is full, in ms. Default 10,000. */
  diskFullRetryMaxMs?: number;
  logger?: Logger;
  metrics?: Registry;
}

export type ResolvedArchiveIngestOptions = Required<Omit<ArchiveIngestOptions, 'logger' | 'metrics'>> &
  Pick<ArchiveIngestOptions, 'logger' | 'metrics'>;

export function resolveArchiveIngestOptions(o: ArchiveIngestOptions): ResolvedArchiveIngestOptions {
  const positive = (key: string, value: number, allowZero = false) => positiveOption('archive ingest', key, value, { allowZero });
  return {
    cluster: o.cluster,
    archive: o.archive,
    topics: o.topics ?? NIGHT_TOPIC_PATTERN,
    groupId: o.groupId ?? 'zads-archive',
    groupInstanceId: o.groupInstanceId ?? `zads-archive-${createHash('sha256').update(resolve(o.archive.dataDir)).digest('hex').slice(0, 16)}`,
    sessionTimeoutMs: positive('sessionTimeoutMs', o.sessionTimeoutMs ?? 30_000),
    discoveryIntervalMs: positive('discoveryIntervalMs', o.discoveryIntervalMs ?? 1000),
    maxFetchBytesPerPartition: positive('maxFetchBytesPerPartition', o.maxFetchBytesPerPartition ?? 8 * 1024 * 1024),
    reportIntervalMs: positive('reportIntervalMs', o.reportIntervalMs ?? 10_000, true),
    diskFullRetryMs: positive('diskFullRetryMs', o.diskFullRetryMs ?? 1000),
    diskFullRetryMaxMs: Math.max(positive('diskFullRetryMaxMs', o.diskFullRetryMaxMs ?? 10_000), o.diskFullRetryMs ?? 1000),
    logger: o.logger,
    metrics: o.metrics,
  };
}
