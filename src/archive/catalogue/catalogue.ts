import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as DB, Statement } from 'better-sqlite3';
import { ZadsError } from '../../errors.ts';
import { alertsInBox, objectLocations, objectSummaries, windowHasAlerts, windowLocations, windowSummaries } from './api-queries.ts';
import { catalogueOpenError } from './open-error.ts';
import { alertsByArrival, topicPositions } from './replay-queries.ts';
import { SCHEMA_SQL, SCHEMA_VERSION } from './schema.ts';
import { Statements } from './statements.ts';
import type { AlertRow, AlertSummary, ArrivalRow, ArrivalSelection, BatchResult, CatalogueBatch, JdCandid, LocatedAlert, NightRow, NightWindow } from './types.ts';
import type { QuarantineRow, SegmentRow, SegmentUse, SkyBox } from './types.ts';
import { alertsEndingPast, candidSet, segmentUse } from './verify-queries.ts';
import type { CandidSet } from './verify-queries.ts';

type Row = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

function toAlert(r: Row): AlertRow {
  return {
    candid: BigInt(r.candid as bigint),
    objectId: r.object_id as string,
    night: r.night as string,
    programid: num(r.programid),
    jd: num(r.jd),
    ra: num(r.ra),
    dec: num(r.dec),
    fid: num(r.fid),
    magpsf: numOrNull(r.magpsf),
    sigmapsf: numOrNull(r.sigmapsf),
    rb: numOrNull(r.rb),
    drb: numOrNull(r.drb),
    schemaVersion: r.schema_version as string,
    topic: (r.topic as string | null) ?? null,
    partition: numOrNull(r.partition),
    kafkaOffset: r.kafka_offset === null ? null : BigInt(r.kafka_offset as bigint),
    kafkaTimestamp: numOrNull(r.kafka_timestamp),
    segment: r.segment as string,
    byteOffset: num(r.byte_offset),
    byteLength: num(r.byte_length),
  };
}

function toNight(r: Row): NightRow {
  return {
    night: r.night as string,
    programid: num(r.programid),
    state: r.state as NightRow['state'],
    alerts: num(r.alerts),
    bytes: num(r.bytes),
    firstJd: numOrNull(r.first_jd),
    lastJd: numOrNull(r.last_jd),
    lastAlertAt: numOrNull(r.last_alert_at),
    closedAt: numOrNull(r.closed_at),
    reopened: num(r.reopened),
    tarballKey: (r.tarball_key as string | null) ?? null,
    tarballBytes: numOrNull(r.tarball_bytes),
    tarballMd5: (r.tarball_md5 as string | null) ?? null,
    tarballAlerts: numOrNull(r.tarball_alerts),
    stored: r.stored as string,
  };
}

/**
 * The SQLite catalogue of the archive (better-sqlite3, WAL). Writes come in batches, each one
 * transaction: alert rows, quarantined messages, Kafka positions and segment sizes together, so the
 * catalogue never claims bytes or offsets that a crash could have lost (the caller fsyncs segments
 * first). 64-bit values (candid, offsets) are read as BigInt. Every query of the catalogue is one of its
 * methods, each statement prepared once per connection.
 */
export class Catalogue {
  readonly path: string;
  readonly #db: DB;
  readonly #s: Record<string, Statement>;
  readonly #q: Statements;
  #closed = false;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.path = path;
    const readonly = options.readonly ?? false;
    let db: DB | undefined;
    try {
      if (!readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { readonly, fileMustExist: readonly });
      this.#db = db;
      db.defaultSafeIntegers(true);
      // First: a writer holding the lock while this one opens is waited for, not an immediate SQLITE_BUSY.
      db.pragma('busy_timeout = 5000');
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        // NORMAL: with WAL, a commit is written to the log but fsynced only at checkpoints. A kill -9 loses
        // nothing (the log is in the OS's cache); a power loss may lose the last commits, but whole — rows,
        // positions and segment sizes together — so the catalogue goes back to an earlier consistent state,
        // segments are cut back to it at the next start and Kafka gives the alerts again. FULL paid an fsync
        // per batch on the event loop (better-sqlite3 is synchronous): 12 % of the archive's time, measured.
        db.pragma('synchronous = NORMAL');
        db.exec(SCHEMA_SQL);
        this.#migrate();
      }
      this.#s = this.#prepare();
    } catch (cause) {
      db?.close();
      throw catalogueOpenError(path, readonly, cause);
    }
    this.#q = new Statements(db);
  }

  #migrate(): void {
    const row = this.#db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").get() as Row | undefined;
    const version = row ? Number(row.value) : 0;
    if (version > SCHEMA_VERSION) {
      throw new ZadsError('CONFIG_INVALID', `catalogue ${this.path} has schema ${version}, newer than this program's ${SCHEMA_VERSION}: upgrade zads`, {
        context: { file: this.path },
      });
    }
    this.#db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  }

  #prepare(): Record<string, Statement> {
    const db = this.#db;
    return {
      // Only a candid already archived is skipped (a duplicate); any other constraint (a NOT NULL column
      // without a value) fails the transaction loudly instead of dropping the alert as OR IGNORE would.
      insertAlert: db.prepare(`INSERT INTO alerts
        (candid, object_id, night, programid, jd, ra, dec, fid, magpsf, sigmapsf, rb, drb, schema_version,
         topic, partition, kafka_offset, kafka_timestamp, segment, byte_offset, byte_length, archived_at)
        VALUES (@candid, @objectId, @night, @programid, @jd, @ra, @dec, @fid, @magpsf, @sigmapsf, @rb, @drb, @schemaVersion,
         @topic, @partition, @kafkaOffset, @kafkaTimestamp, @segment, @byteOffset, @byteLength, @archivedAt)
        ON CONFLICT (candid) DO NOTHING`),
      insertSky: db.prepare('INSERT OR REPLACE INTO alerts_sky (candid, ra_min, ra_max, dec_min, dec_max) VALUES (?, ?, ?, ?, ?)'),
      upsertNight: db.prepare(`INSERT INTO nights (night, programid, state, alerts, bytes, first_jd, last_jd, last_alert_at)
        VALUES (@night, @programid, 'open', @alerts, @bytes, @firstJd, @lastJd, @now)
        ON CONFLICT (night, programid) DO UPDATE SET
          alerts = alerts + excluded.alerts,
          bytes = bytes + excluded.bytes,
          first_jd = min(coalesce(first_jd, excluded.first_jd), excluded.first_jd),
          last_jd = max(coalesce(last_jd, excluded.last_jd), excluded.last_jd),
          last_alert_at = excluded.last_alert_at,
          reopened = reopened + (CASE WHEN state = 'closed' AND excluded.alerts > 0 THEN 1 ELSE 0 END),
          state = CASE WHEN excluded.alerts > 0 THEN 'open' ELSE state END`),
      ensureNight: db.prepare(`INSERT OR IGNORE INTO nights (night, programid, state) VALUES (?, ?, 'open')`),
      insertQuarantine: db.prepare(`INSERT INTO quarantine (topic, partition, kafka_offset, source, code, reason, key, byte_length, at)
        VALUES (@topic, @partition, @kafkaOffset, @source, @code, @reason, @key, @byteLength, @at)`),
      setPosition: db.prepare(`INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?)
        ON CONFLICT (topic, partition) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)`),
      getPosition: db.prepare('SELECT next_offset FROM positions WHERE topic = ? AND partition = ?'),
      setSegment: db.prepare(`INSERT INTO segments (key, night, programid, size_bytes) VALUES (@key, @night, @programid, @sizeBytes)
        ON CONFLICT (key) DO UPDATE SET size_bytes = excluded.size_bytes`),
      getSegment: db.prepare('SELECT * FROM segments WHERE key = ?'),
      allSegments: db.prepare('SELECT * FROM segments ORDER BY key'),
      getAlert: db.prepare('SELECT * FROM alerts WHERE candid = ?'),
      byObject: db.prepare('SELECT * FROM alerts WHERE object_id = ? ORDER BY jd, candid'),
      byNight: db.prepare('SELECT * FROM alerts WHERE night = ? AND programid = ? ORDER BY candid'),
      countNight: db.prepare('SELECT count(*) AS n, coalesce(sum(byte_length), 0) AS bytes FROM alerts WHERE night = ? AND programid = ?'),
      getNight: db.prepare('SELECT * FROM nights WHERE night = ? AND programid = ?'),
      allNights: db.prepare('SELECT * FROM nights ORDER BY night, programid'),
      closeNight: db.prepare(`UPDATE nights SET state = 'closed', closed_at = @closedAt, tarball_key = @tarballKey,
        tarball_bytes = @tarballBytes, tarball_md5 = @tarballMd5, tarball_alerts = @tarballAlerts WHERE night = @night AND programid = @programid`),
      setStored: db.prepare('UPDATE nights SET stored = ? WHERE night = ? AND programid = ?'),
      quarantineCount: db.prepare('SELECT count(*) AS n FROM quarantine'),
      quarantineAll: db.prepare('SELECT * FROM quarantine ORDER BY id'),
    };
  }

  /** Records a batch in one transaction; returns how many alerts were new and how many were already there. */
  record(batch: CatalogueBatch): BatchResult {
    const now = Date.now();
    const run = this.#db.transaction((b: CatalogueBatch): BatchResult => {
      let inserted = 0;
      const perNight = new Map<string, { night: string; programid: number; alerts: number; bytes: number; firstJd: number; lastJd: number }>();
      for (const a of b.alerts) {
        const info = this.#s.insertAlert!.run({ ...a, archivedAt: now });
        if (info.changes === 0) continue;
        inserted++;
        this.#s.insertSky!.run(a.candid, a.ra, a.ra, a.dec, a.dec);
        const key = `${a.night}/${a.programid}`;
        const n = perNight.get(key) ?? { night: a.night, programid: a.programid, alerts: 0, bytes: 0, firstJd: a.jd, lastJd: a.jd };
        n.alerts++;
        n.bytes += a.byteLength;
        n.firstJd = Math.min(n.firstJd, a.jd);
        n.lastJd = Math.max(n.lastJd, a.jd);
        perNight.set(key, n);
      }
      for (const n of perNight.values()) this.#s.upsertNight!.run({ ...n, now });
      for (const q of b.quarantined ?? []) this.#s.insertQuarantine!.run({ ...q, at: now });
      for (const p of b.positions ?? []) this.#s.setPosition!.run(p.topic, p.partition, p.nextOffset);
      for (const s of b.segments ?? []) {
        this.#s.setSegment!.run(s);
        this.#s.ensureNight!.run(s.night, s.programid);
      }
      return { inserted, duplicates: b.alerts.length - inserted };
    });
    return run.immediate(batch);
  }

  /** Makes sure a night has a row (an empty night still gets a state and, at close, an empty tarball). */
  ensureNight(night: string, programid: number): void {
    this.#s.ensureNight!.run(night, programid);
  }

  /** The next Kafka offset to archive for a partition, if it was ever archived. */
  position(topic: string, partition: number): bigint | undefined {
    const r = this.#s.getPosition!.get(topic, partition) as Row | undefined;
    return r ? BigInt(r.next_offset as bigint) : undefined;
  }

  segment(key: string): SegmentRow | undefined {
    const r = this.#s.getSegment!.get(key) as Row | undefined;
    return r ? { key: r.key as string, night: r.night as string, programid: num(r.programid), sizeBytes: num(r.size_bytes) } : undefined;
  }

  segments(): SegmentRow[] {
    return (this.#s.allSegments!.all() as Row[]).map((r) => ({ key: r.key as string, night: r.night as string, programid: num(r.programid), sizeBytes: num(r.size_bytes) }));
  }

  alert(candid: bigint): AlertRow | undefined {
    const r = this.#s.getAlert!.get(candid) as Row | undefined;
    return r ? toAlert(r) : undefined;
  }

  /** Every alert of an object across all nights, in time order. */
  alertsOfObject(objectId: string): AlertRow[] {
    return (this.#s.byObject!.all(objectId) as Row[]).map(toAlert);
  }

  /** The alerts of a night in candid order, streamed from the database (memory stays flat). */
  *alertsOfNight(night: string, programid: number): Generator<AlertRow> {
    for (const r of this.#s.byNight!.iterate(night, programid) as Iterable<Row>) yield toAlert(r);
  }

  countNight(night: string, programid: number): { alerts: number; bytes: number } {
    const r = this.#s.countNight!.get(night, programid) as Row;
    return { alerts: num(r.n), bytes: num(r.bytes) };
  }

  night(night: string, programid: number): NightRow | undefined {
    const r = this.#s.getNight!.get(night, programid) as Row | undefined;
    return r ? toNight(r) : undefined;
  }

  nights(): NightRow[] {
    return (this.#s.allNights!.all() as Row[]).map(toNight);
  }

  markClosed(args: { night: string; programid: number; tarballKey: string; tarballBytes: number; tarballMd5: string; tarballAlerts: number }): void {
    this.#s.closeNight!.run({ ...args, closedAt: Date.now() });
  }

  setStored(night: string, programid: number, stored: string): void {
    this.#s.setStored!.run(stored, night, programid);
  }

  quarantineCount(): number {
    return num((this.#s.quarantineCount!.get() as Row).n);
  }

  quarantined(): (QuarantineRow & { id: number; at: number })[] {
    return (this.#s.quarantineAll!.all() as Row[]).map((r) => ({
      id: num(r.id),
      topic: (r.topic as string | null) ?? null,
      partition: numOrNull(r.partition),
      kafkaOffset: r.kafka_offset === null ? null : BigInt(r.kafka_offset as bigint),
      source: (r.source as string | null) ?? null,
      code: r.code as string,
      reason: r.reason as string,
      key: r.key as string,
      byteLength: num(r.byte_length),
      at: num(r.at),
    }));
  }

  /** Whether there is a quarantined message whose bytes are kept under `key`. */
  hasQuarantined(key: string): boolean {
    return this.#q.get('SELECT 1 FROM quarantine WHERE key = ? LIMIT 1').get(key) !== undefined;
  }

  /** Light curves: every alert of an object across all nights, in time order (jd, then candid). */
  objectSummaries(objectId: string): AlertSummary[] {
    return objectSummaries(this.#q, objectId);
  }

  /** Where the bytes of each alert of an object are, in time order (jd, then candid). */
  objectLocations(objectId: string): LocatedAlert[] {
    return objectLocations(this.#q, objectId);
  }

  /** At most `limit` alerts of a window in (jd, candid) order, after `after` when given. */
  windowSummaries(w: NightWindow, after: JdCandid | undefined, limit: number): AlertSummary[] {
    return windowSummaries(this.#q, w, after, limit);
  }

  /** Where the bytes of at most `limit` alerts of a window are, in (jd, candid) order, after `after` when given. */
  windowLocations(w: NightWindow, after: JdCandid | undefined, limit: number): LocatedAlert[] {
    return windowLocations(this.#q, w, after, limit);
  }

  windowHasAlerts(w: NightWindow): boolean {
    return windowHasAlerts(this.#q, w);
  }

  /** The alerts whose position is in a sky box, found by the R*Tree, in no particular order. */
  alertsInBox(box: SkyBox): AlertSummary[] {
    return alertsInBox(this.#q, box);
  }

  /** The next Kafka offset to archive of each partition of a topic that was ever archived. */
  topicPositions(topic: string): Map<number, bigint> {
    return topicPositions(this.#q, topic);
  }

  /**
   * The selected alerts of a night in their original arrival order (ties by candid), after `after` when
   * given, streamed from the database (memory stays flat).
   */
  alertsByArrival(sel: ArrivalSelection, after?: Pick<ArrivalRow, 'arrivalMs' | 'candid'>): Generator<ArrivalRow> {
    return alertsByArrival(this.#q, sel, after);
  }

  /** How the rows of a night use each of their segments, by segment key. */
  segmentUse(night: string, programid: number): SegmentUse[] {
    return segmentUse(this.#q, night, programid);
  }

  /** The alerts of a night in a segment whose bytes end past `endByte`, in candid order, streamed. */
  alertsEndingPast(night: string, programid: number, segment: string, endByte: number): Generator<Pick<AlertRow, 'candid' | 'byteOffset' | 'byteLength'>> {
    return alertsEndingPast(this.#q, night, programid, segment, endByte);
  }

  /**
   * An empty set of candids kept in a temporary table of this connection, not in memory (a tarball holds
   * up to a night of members). One per connection: asking again empties it.
   */
  candidSet(): CandidSet {
    return candidSet(this.#q);
  }

  /** How many alerts the catalogue holds. */
  alertCount(): number {
    return num((this.#q.get('SELECT count(*) AS n FROM alerts').get() as Row).n);
  }

  /** The Kafka timestamps of the alerts that came from Kafka, in time order, streamed. */
  *kafkaTimestamps(): Generator<number> {
    const sql = 'SELECT kafka_timestamp AS ts FROM alerts WHERE kafka_timestamp IS NOT NULL ORDER BY kafka_timestamp';
    for (const r of this.#q.iterable(sql).iterate() as Iterable<Row>) yield num(r.ts);
  }

  /** The largest candid archived, if any. */
  newestCandid(): bigint | undefined {
    const r = this.#q.get('SELECT max(candid) AS candid FROM alerts').get() as Row;
    return r.candid === null ? undefined : BigInt(r.candid as bigint);
  }

  /** The alert of the smallest candid at or above `candid`, if any. */
  alertFrom(candid: bigint): AlertRow | undefined {
    const r = this.#q.get('SELECT * FROM alerts WHERE candid >= ? ORDER BY candid LIMIT 1').get(candid) as Row | undefined;
    return r ? toAlert(r) : undefined;
  }

  /** Throws when the database does not answer (a health check). */
  ping(): void {
    this.#q.get('SELECT 1').get();
  }

  /**
   * Read tuning of this connection only (the file is not changed): the page cache, in MiB, and how much
   * of the file is memory-mapped, in bytes.
   */
  tuneReads(options: { cacheMiB: number; mmapBytes: number }): void {
    this.#db.pragma(`cache_size = -${Math.round(options.cacheMiB * 1024)}`);
    this.#db.pragma(`mmap_size = ${Math.max(0, Math.round(options.mmapBytes))}`);
  }

  /**
   * Starts a read transaction: every read until endRead() sees the catalogue as it was at the first of
   * them, however long they take (a night's tarball or its catalogue copy, read across awaits).
   */
  beginRead(): void {
    this.#q.exec('BEGIN');
  }

  endRead(): void {
    this.#q.exec('COMMIT');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
