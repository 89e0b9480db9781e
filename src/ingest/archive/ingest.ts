import { decodeCatalogueFields } from '../../alert/index.ts';
import { alertRow, quarantineKey, segmentKey } from '../../archive/index.ts';
import type { AlertRow, QuarantineRow } from '../../archive/index.ts';
import { toZadsError } from '../../errors.ts';
import type { ZadsError } from '../../errors.ts';
import { ConsumeLoop, createKafka, kafkaError, parseNightTopic } from '../../kafka/index.ts';
import type { Consumer, InputBatch, Sink } from '../../kafka/index.ts';
import type { Logger } from '../../log.ts';
import { counter, createMetricsRegistry, gauge } from '../../metrics.ts';
import { DiskFullGate } from './disk-full.ts';
import type { DiskFullState } from './disk-full.ts';
import { resolveArchiveIngestOptions } from './options.ts';
import type { ArchiveIngestOptions, ResolvedArchiveIngestOptions } from './options.ts';

/** What the ingest has done since it started. */
export interface ArchiveIngestStats {
  topics: string[];
  /** Alerts newly recorded in the catalogue. */
  alerts: number;
  /** Alerts whose candid the catalogue already had (recorded once). */
  duplicates: number;
  quarantined: number;
  bytes: number;
  batches: number;
}

/**
 * Archives the nightly topics of the UW cluster, on the consume loop of src/kafka/engine with the catalogue
 * as its sink. For each fetched batch of a partition: decode every message, append the exact bytes of the
 * good ones to the partition's segment of its night, keep the bad ones byte for byte in the quarantine, make
 * all of it durable (fdatasync), then record the alert rows, the quarantine rows, the segment's new size and
 * the partition's next offset in one catalogue transaction. A few partitions are archived side by side
 * (`partitionsConcurrently`), so one partition's fdatasync overlaps another's decode and catalogue work.
 * The catalogue is the only truth about progress:
 * on restart segments are cut back to it (by `openArchive({ writer: true })`) and each assigned partition
 * starts at its offsets. Kafka offsets are also committed to the group afterwards, for the usual lag tools
 * only. A full disk (ENOSPC, or SQLITE_FULL in the catalogue) holds the batch without recording anything of
 * it, and it resumes by itself once there is space (disk-full.ts). The archiver is a static group member,
 * so a restart after a crash gets its partitions back at once.
 */
export class ArchiveIngest implements Sink {
  readonly #o: ResolvedArchiveIngestOptions;
  readonly #log: Logger | undefined;
  readonly #loop: ConsumeLoop;
  #report: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #failure: ZadsError | undefined;
  #onFailure: ((err: ZadsError) => void) | undefined;
  readonly #stats: Omit<ArchiveIngestStats, 'topics'> = { alerts: 0, duplicates: 0, quarantined: 0, bytes: 0, batches: 0 };
  readonly #m;
  readonly #diskFull: DiskFullGate;

  constructor(options: ArchiveIngestOptions) {
    this.#o = resolveArchiveIngestOptions(options);
    this.#log = this.#o.logger?.child({ component: 'archive-ingest' });
    const registry = this.#o.metrics ?? createMetricsRegistry();
    const labels = ['topic', 'partition'];
    this.#m = {
      alerts: counter(registry, 'zads_archive_alerts_total', 'Alerts recorded in the catalogue', labels),
      bytes: counter(registry, 'zads_archive_bytes_total', 'Message bytes appended to segments', labels),
      quarantined: counter(registry, 'zads_archive_quarantined_total', 'Undecodable messages kept in the quarantine', labels),
      duplicates: counter(registry, 'zads_archive_duplicates_total', 'Alerts whose candid was already archived', labels),
      lag: gauge(registry, 'zads_archive_lag_records', 'Records not yet archived (high watermark − next offset)', labels),
    };
    this.#diskFull = new DiskFullGate({
      dataDir: this.#o.archive.dataDir,
      cataloguePath: this.#o.archive.catalogue.path,
      retryMs: this.#o.diskFullRetryMs,
      retryMaxMs: this.#o.diskFullRetryMaxMs,
      logger: this.#log,
      gauge: gauge(registry, 'zads_archive_disk_full', '1 while ingest is paused because the archive disk is full (ENOSPC, SQLITE_FULL), else 0'),
      retries: counter(registry, 'zads_archive_disk_full_retries_total', 'Retries of a batch that found the archive disk still full'),
    });
    this.#loop = new ConsumeLoop({
      kafka: createKafka(this.#o.cluster, this.#o.logger, 'archive'),
      groupId: this.#o.groupId,
      groupInstanceId: this.#o.groupInstanceId,
      sessionTimeoutMs: this.#o.sessionTimeoutMs,
      topics: this.#o.topics,
      discoveryIntervalMs: this.#o.discoveryIntervalMs,
      maxFetchBytesPerPartition: this.#o.maxFetchBytesPerPartition,
      who: 'archive ingest',
      partitionsConcurrently: this.#o.partitionsConcurrently,
      logger: this.#log,
      sink: this,
    });
    this.#loop.onFailure((err) => this.#fail(err));
  }

  get stats(): ArchiveIngestStats {
    return { ...structuredClone(this.#stats), topics: [...this.#loop.topics] };
  }

  /** Set while ingest is paused because the archive's disk is full: since when, the file, the log line. */
  get diskFull(): DiskFullState | undefined {
    return this.#diskFull.state;
  }

  onFailure(listener: (err: ZadsError) => void): void {
    this.#onFailure = listener;
    if (this.#failure) listener(this.#failure);
  }

  async start(): Promise<void> {
    try {
      await this.#loop.start();
    } catch (cause) {
      throw kafkaError(cause, { cluster: this.#o.cluster, doing: 'connect', who: 'archive ingest' });
    }
    if (this.#o.reportIntervalMs > 0) {
      this.#report = setInterval(() => this.#log?.info({ ...this.#stats, topics: this.#loop.topics.length }, 'archive progress'), this.#o.reportIntervalMs);
    }
    this.#log?.info({ topics: this.#loop.topics, dataDir: this.#o.archive.dataDir }, 'archive ingest started');
  }

  /** Sink: each partition starts at the catalogue's position, whatever the group's committed offset says. */
  async positions(partitions: { topic: string; partition: number }[]): Promise<Map<string, bigint | undefined>> {
    return new Map(partitions.map((p) => [`${p.topic}\u0000${p.partition}`, this.#o.archive.catalogue.position(p.topic, p.partition)]));
  }

  /** Sink: archives a batch (held while the disk is full); all of it, or nothing when the loop stops meanwhile. */
  async write(batch: InputBatch, isRunning: () => boolean): Promise<number> {
    let done = 0;
    const gated = { isRunning, isStale: () => false, heartbeat: async () => undefined };
    await this.#diskFull.run(
      async () => {
        done = await this.#archiveBatch(batch);
      },
      gated,
      () => this.#cutBack(batch.topic, batch.partition),
    );
    if (done > 0) this.#commitForLagTools(batch.consumer, batch.topic, batch.partition, BigInt(batch.messages[done - 1]!.offset) + 1n);
    return done;
  }

  async #archiveBatch(batch: InputBatch): Promise<number> {
    const { topic, partition, messages } = batch;
    const { archive } = this.#o;
    const night = parseNightTopic(topic);
    if (!night) {
      throw toZadsError(new Error(`topic ${topic} has no night in its name (ztf_YYYYMMDD_programidN); archive only nightly topics`));
    }
    const next = archive.catalogue.position(topic, partition) ?? 0n;
    // The loop starts each partition at the catalogue's position; anything below it is already archived.
    const fresh = messages.filter((m) => BigInt(m.offset) >= next);
    if (fresh.length === 0) return messages.length;

    const segment = segmentKey(night.night, night.programid, `${topic}-p${partition}`);
    const good: { bytes: Buffer; rows: (offsetInSegment: number) => AlertRow[] }[] = [];
    const quarantined: QuarantineRow[] = [];
    for (const m of fresh) {
      const value = m.value ?? Buffer.alloc(0);
      const offset = BigInt(m.offset);
      const source = { topic, partition, offset: m.offset };
      try {
        const decoded = await decodeCatalogueFields(value, { source });
        good.push({
          bytes: value,
          rows: (byteOffset) =>
            decoded.map((d) =>
              alertRow(d, {
                night: night.night,
                programid: night.programid,
                segment,
                byteOffset,
                byteLength: value.length,
                topic,
                partition,
                kafkaOffset: offset,
                kafkaTimestamp: Number(m.timestamp),
              }),
            ),
        });
      } catch (err) {
        const error = toZadsError(err, source);
        const qKey = quarantineKey(topic, partition, offset);
        await archive.local.put(qKey, value);
        quarantined.push({ topic, partition, kafkaOffset: offset, source: null, code: error.code, reason: error.message, key: qKey, byteLength: value.length });
        this.#log?.warn({ topic, partition, offset: m.offset, err: error }, 'message quarantined');
      }
    }
    const appended = good.length > 0 ? await archive.segments.append(segment, good.map((g) => g.bytes)) : undefined;
    await archive.segments.sync([segment]);
    const alerts = good.flatMap((g, i) => g.rows(appended!.offsets[i]!));
    const nextOffset = BigInt(fresh[fresh.length - 1]!.offset) + 1n;
    const result = archive.catalogue.record({
      alerts,
      quarantined,
      positions: [{ topic, partition, nextOffset }],
      segments: appended ? [{ key: segment, night: night.night, programid: night.programid, sizeBytes: appended.sizeBytes }] : [],
    });
    if (!appended) archive.catalogue.ensureNight(night.night, night.programid);
    const bytes = good.reduce((n, g) => n + g.bytes.length, 0);
    this.#stats.alerts += result.inserted;
    this.#stats.duplicates += result.duplicates;
    this.#stats.quarantined += quarantined.length;
    this.#stats.bytes += bytes;
    this.#stats.batches++;
    const labels = { topic, partition };
    this.#m.alerts.inc(labels, result.inserted);
    this.#m.duplicates.inc(labels, result.duplicates);
    this.#m.quarantined.inc(labels, quarantined.length);
    this.#m.bytes.inc(labels, bytes);
    const lag = batch.highWatermark - nextOffset;
    this.#m.lag.set(labels, Number(lag < 0n ? 0n : lag));
    return messages.length;
  }

  /** The group's offsets are for lag tools only (the catalogue is the truth): a failure here is logged, not fatal. */
  #commitForLagTools(consumer: Consumer, topic: string, partition: number, next: bigint): void {
    consumer.commitOffsets([{ topic, partition, offset: next.toString() }]).catch((err: unknown) => this.#log?.debug({ err }, 'committing the group offset (for lag tools) failed'));
  }

  /** After a failed batch: its segment back to what the catalogue records, so a retry appends where the rows will say. */
  async #cutBack(topic: string, partition: number): Promise<void> {
    const night = parseNightTopic(topic);
    if (!night) return;
    const segment = segmentKey(night.night, night.programid, `${topic}-p${partition}`);
    try {
      await this.#o.archive.segments.cutBack(segment, this.#o.archive.catalogue.segment(segment)?.sizeBytes);
    } catch (err) {
      this.#fail(err);
      throw err;
    }
  }

  #fail(err: unknown): void {
    if (this.#failure) return;
    this.#failure = toZadsError(err);
    this.#log?.error({ err: this.#failure }, 'archive ingest stopped on an error');
    this.#onFailure?.(this.#failure);
  }

  /** Stops consuming (a batch being recorded finishes first) and disconnects; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#report) clearInterval(this.#report);
      await this.#loop.close();
    })();
    return this.#closing;
  }
}
