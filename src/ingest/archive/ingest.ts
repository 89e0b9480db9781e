import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { decodePayload } from '../../alert/index.ts';
import { alertRow, quarantineKey, segmentKey } from '../../archive/index.ts';
import type { AlertRow, QuarantineRow } from '../../archive/index.ts';
import { isZadsError, toZadsError } from '../../errors.ts';
import type { ZadsError } from '../../errors.ts';
import { TopicWatch, createKafka, parseNightTopic } from '../../kafka/index.ts';
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
  /** Messages below the catalogue's position, re-delivered after a restart and skipped. */
  skippedAlreadyArchived: number;
}

/**
 * Archives the nightly topics of the UW cluster. For each fetched batch of a partition: decode every
 * message, append the exact bytes of the good ones to the partition's segment of its night, keep the bad
 * ones byte for byte in the quarantine, make all of it durable (fdatasync), then record the alert rows,
 * the quarantine rows, the segment's new size and the partition's next offset in one catalogue
 * transaction. The catalogue is the only truth about progress: on restart segments are cut back to it
 * (by `openArchive({ writer: true })`) and consumption resumes at its offsets. Kafka offsets are also
 * committed to the group afterwards, for the usual lag tools only. A full disk (ENOSPC, or SQLITE_FULL
 * in the catalogue) pauses consumption without recording anything of the batch, and it resumes by itself
 * once there is space (disk-full.ts).
 */
export class ArchiveIngest {
  readonly #o: ResolvedArchiveIngestOptions;
  readonly #log: Logger | undefined;
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #watch: TopicWatch;
  #consumer: Consumer | undefined;
  readonly #sought = new Set<string>();
  #report: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #failure: ZadsError | undefined;
  #onFailure: ((err: ZadsError) => void) | undefined;
  readonly #stats: ArchiveIngestStats = { topics: [], alerts: 0, duplicates: 0, quarantined: 0, bytes: 0, batches: 0, skippedAlreadyArchived: 0 };
  readonly #m;
  readonly #diskFull: DiskFullGate;

  constructor(options: ArchiveIngestOptions) {
    this.#o = resolveArchiveIngestOptions(options);
    this.#log = this.#o.logger?.child({ component: 'archive-ingest' });
    this.#kafka = createKafka(this.#o.cluster, this.#o.logger, 'archive');
    this.#admin = this.#kafka.admin();
    this.#watch = new TopicWatch({
      admin: this.#admin,
      pattern: this.#o.topics,
      intervalMs: this.#o.discoveryIntervalMs,
      onChange: (topics) => this.#subscribe(topics),
      logger: this.#log,
    });
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
  }

  get stats(): ArchiveIngestStats {
    return structuredClone(this.#stats);
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
      await this.#admin.connect();
    } catch (cause) {
      if (isZadsError(cause)) throw cause; // KAFKA_AUTH, KAFKA_TLS: already say what to check
      throw toZadsError(Object.assign(new Error(`cannot reach Kafka at ${this.#o.cluster.brokers.join(',')}: ${(cause as Error).message}`), { cause }));
    }
    await this.#watch.start();
    if (this.#o.reportIntervalMs > 0) {
      this.#report = setInterval(() => this.#log?.info({ ...this.#stats, topics: this.#stats.topics.length }, 'archive progress'), this.#o.reportIntervalMs);
    }
    this.#log?.info({ topics: this.#watch.topics, dataDir: this.#o.archive.dataDir }, 'archive ingest started');
  }

  async #subscribe(topics: string[]): Promise<void> {
    if (this.#closing) return;
    const old = this.#consumer;
    this.#consumer = undefined;
    if (old) await old.disconnect();
    this.#stats.topics = [...topics];
    this.#sought.clear();
    if (topics.length === 0) return;
    const consumer = this.#kafka.consumer({
      groupId: this.#o.groupId,
      readUncommitted: false,
      maxBytesPerPartition: this.#o.maxFetchBytesPerPartition,
      maxBytes: this.#o.maxFetchBytesPerPartition * 4,
      maxWaitTimeInMs: 250,
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart) this.#fail(event.payload.error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
    } catch (err) {
      // The topic watch reports the change again at its next look; this consumer must not linger.
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.#consumer = consumer;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // A full disk holds the batch (and so the consumer) until space returns: disk-full.ts.
      eachBatch: (payload) => this.#diskFull.run(() => this.#archiveBatch(consumer, payload), payload, () => this.#cutBack(payload.batch.topic, payload.batch.partition)),
    });
  }

  async #archiveBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const { archive } = this.#o;
    const night = parseNightTopic(topic);
    if (!night) {
      this.#fail(toZadsError(new Error(`topic ${topic} has no night in its name (ztf_YYYYMMDD_programidN); archive only nightly topics`)));
      return;
    }
    const next = archive.catalogue.position(topic, partition) ?? 0n;
    const key = `${topic}/${partition}`;
    const first = batch.messages[0] ? BigInt(batch.messages[0].offset) : next;
    // Once per partition and process: start exactly at the catalogue's position, whatever the group's
    // committed offset says (it is only advisory, and may be behind or, after a restore, ahead).
    if (!this.#sought.has(key)) {
      this.#sought.add(key);
      if (first !== next) {
        consumer.seek({ topic, partition, offset: next.toString() });
        return;
      }
    }
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= next);
    this.#stats.skippedAlreadyArchived += batch.messages.length - fresh.length;
    if (fresh.length === 0 && batch.messages.length > 0) {
      // All archived already: the consumer restarted (kafkajs does so after a broker crash) from the
      // group's offset, which is behind when a commit failed. Unresolved, this batch would be fetched
      // again forever; jump to the catalogue's position instead.
      consumer.seek({ topic, partition, offset: next.toString() });
      return;
    }
    if (fresh.length === 0 || !isRunning() || isStale()) return;

    const segment = segmentKey(night.night, night.programid, `${topic}-p${partition}`);
    const good: { bytes: Buffer; rows: (offsetInSegment: number) => AlertRow[] }[] = [];
    const quarantined: QuarantineRow[] = [];
    for (const m of fresh) {
      const value = m.value ?? Buffer.alloc(0);
      const offset = BigInt(m.offset);
      const source = { topic, partition, offset: m.offset };
      try {
        const decoded = await decodePayload(value, { source });
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
        this.#log?.warn({ topic, partition, offset: m.offset, code: error.code, reason: error.message }, 'message quarantined');
      }
    }
    const appended = good.length > 0 ? await archive.segments.append(segment, good.map((g) => g.bytes)) : undefined;
    await archive.segments.sync();
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
    const lag = BigInt(batch.highWatermark) - nextOffset;
    this.#m.lag.set(labels, Number(lag < 0n ? 0n : lag));
    payload.resolveOffset(fresh[fresh.length - 1]!.offset);
    await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: nextOffset.toString() }] }] }).catch(() => undefined);
    await payload.heartbeat();
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
    this.#log?.error({ err: this.#failure.message, code: this.#failure.code }, 'archive ingest stopped on an error');
    this.#onFailure?.(this.#failure);
  }

  /** Stops consuming (a batch being recorded finishes first) and disconnects; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#report) clearInterval(this.#report);
      for (const step of [() => this.#watch.stop(), () => this.#consumer?.disconnect(), () => this.#admin.disconnect()]) {
        try {
          await step();
        } catch (err) {
          this.#log?.warn({ err: (err as Error).message }, 'archive ingest close step failed');
        }
      }
    })();
    return this.#closing;
  }
}
