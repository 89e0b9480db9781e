import type { DecodedAlert } from '../../alert/index.ts';
import type { ZadsError } from '../../errors.ts';
import type { Archive } from '../archive.ts';
import type { AlertRow, QuarantineRow } from '../catalogue/index.ts';
import { alertRow } from '../catalogue/rows.ts';

export interface ImportWriterOptions {
  night: string;
  programid: number;
  /** Segment key the alert bytes are appended to. */
  segment: string;
  /** Folder under `quarantine/import/` for this input's undecodable members. */
  quarantineFolder: string;
  batchMembers: number;
  batchBytes: number;
}

/** What an import has done so far; the writer keeps the counts, the caller adds them to its report. */
export interface WriterCounts {
  alerts: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
  multiAlertMembers: number;
  bytes: number;
  appendedBytes: number;
  /**
   * Distinct alerts of this input whose catalogue row is in the input's night (new, or recorded by
   * an earlier import or ingest): the night is exactly this input when it equals the night's count.
   */
  inNight: number;
}

/** A file-system-safe single path segment. */
export function safeName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '' || safe === '.' || safe === '..' ? '_' : safe;
}

/** One batch: the members' bytes, their rows (with the index of the buffer holding their bytes), quarantine rows. */
interface Batch {
  members: number;
  buffers: Buffer[];
  bufferBytes: number;
  rows: { row: AlertRow; buffer: number }[];
  quarantined: QuarantineRow[];
  candids: Set<bigint>;
}

function emptyBatch(): Batch {
  return { members: 0, buffers: [], bufferBytes: 0, rows: [], quarantined: [], candids: new Set() };
}

/**
 * Collects one input's members into batches: each batch appends the new members' exact bytes to the
 * segment, makes them durable, then records their catalogue rows, the quarantined members and the
 * segment's new size in one transaction. Members whose candids the catalogue (or a batch not yet
 * recorded) already holds are counted as duplicates and not appended, so a re-import does not grow the
 * segment. While one batch is written the next one is read: at most one batch is in flight, and
 * batches are written one after the other, in order. A crash between the sync and the record leaves
 * bytes past the recorded size, which the next writer open cuts; the import can then simply run again.
 */
export class ImportWriter {
  readonly counts: WriterCounts = { alerts: 0, inserted: 0, duplicates: 0, quarantined: 0, multiAlertMembers: 0, bytes: 0, appendedBytes: 0, inNight: 0 };
  readonly #archive: Archive;
  readonly #o: ImportWriterOptions;
  /** The segment's recorded size when this input started: rows at or past it were written by this input. */
  readonly #startSize: number;
  #open: Batch = emptyBatch();
  /** The batch being written, until the catalogue has recorded it. */
  #inFlight: Batch | undefined;
  #writing: Promise<void> | undefined;

  constructor(archive: Archive, options: ImportWriterOptions) {
    this.#archive = archive;
    this.#o = options;
    this.#startSize = archive.catalogue.segment(options.segment)?.sizeBytes ?? 0;
  }

  /** The counts that go into a file's report. */
  reportCounts(): Omit<WriterCounts, 'inNight'> {
    const { alerts, inserted, duplicates, quarantined, multiAlertMembers, bytes, appendedBytes } = this.counts;
    return { alerts, inserted, duplicates, quarantined, multiAlertMembers, bytes, appendedBytes };
  }

  /** Whether the open batch has reached its size; the caller then flushes. */
  get full(): boolean {
    return this.#open.members >= this.#o.batchMembers || this.#open.bufferBytes >= this.#o.batchBytes;
  }

  #unrecorded(candid: bigint): boolean {
    return this.#open.candids.has(candid) || (this.#inFlight?.candids.has(candid) ?? false);
  }

  /** Adds a member that decoded to `decoded` (one alert or more). */
  add(bytes: Buffer, decoded: readonly DecodedAlert[]): void {
    const { night, programid, segment } = this.#o;
    const c = this.counts;
    const batch = this.#open;
    c.alerts += decoded.length;
    c.bytes += bytes.length;
    batch.members++;
    if (decoded.length > 1) c.multiAlertMembers++;
    const fresh: DecodedAlert[] = [];
    for (const d of decoded) {
      const candid = d.alert.candid;
      if (this.#unrecorded(candid)) {
        c.duplicates++;
        continue;
      }
      const known = this.#archive.catalogue.alert(candid);
      if (!known) {
        fresh.push(d);
        batch.candids.add(candid);
        continue;
      }
      c.duplicates++;
      // A row this input wrote earlier in the run is a candid repeated inside the input: counted once.
      const writtenNow = known.segment === segment && known.byteOffset >= this.#startSize;
      if (known.night === night && known.programid === programid && !writtenNow) c.inNight++;
    }
    if (fresh.length === 0) return;
    const buffer = batch.buffers.push(bytes) - 1;
    batch.bufferBytes += bytes.length;
    for (const d of fresh) {
      batch.rows.push({ row: alertRow(d, { night, programid, segment, byteOffset: 0, byteLength: bytes.length }), buffer });
    }
  }

  /**
   * Keeps an undecodable member byte for byte under `quarantine/import/<input>/<member>` (durable at
   * once) and queues its catalogue row. A member quarantined by an earlier import is counted, not
   * recorded again.
   */
  async quarantine(bytes: Buffer, member: string, source: string, error: ZadsError): Promise<void> {
    this.counts.quarantined++;
    this.counts.bytes += bytes.length;
    this.#open.members++;
    const key = `quarantine/import/${this.#o.quarantineFolder}/${safeName(member)}`;
    const queued = (b: Batch | undefined): boolean => b?.quarantined.some((q) => q.key === key) ?? false;
    if (queued(this.#open) || queued(this.#inFlight) || this.#archive.catalogue.hasQuarantined(key)) return;
    await this.#archive.local.put(key, bytes);
    this.#open.quarantined.push({
      topic: null,
      partition: null,
      kafkaOffset: null,
      source,
      code: error.code,
      reason: error.describe(),
      key,
      byteLength: bytes.length,
    });
  }

  /**
   * Hands the open batch over to be written once the batch before it is recorded, and returns then:
   * reading goes on while it is written. A failure of a write surfaces at the next flush or finish.
   */
  async flush(): Promise<void> {
    await this.#writing;
    if (this.#open.members === 0) return;
    const batch = this.#open;
    this.#open = emptyBatch();
    this.#inFlight = batch;
    const writing = this.#write(batch).finally(() => {
      this.#inFlight = undefined;
      this.#writing = undefined;
    });
    // Marked as handled here; the next flush or finish awaits it and throws its error.
    writing.catch(() => undefined);
    this.#writing = writing;
  }

  /** Writes the open batch and waits until every batch is recorded. */
  async finish(): Promise<void> {
    await this.flush();
    await this.#writing;
  }

  async #write(batch: Batch): Promise<void> {
    const { night, programid, segment } = this.#o;
    const { segments, catalogue } = this.#archive;
    const rows: AlertRow[] = [];
    let segmentRow;
    if (batch.buffers.length > 0) {
      const { offsets, sizeBytes } = await segments.append(segment, batch.buffers);
      await segments.sync();
      for (const { row, buffer } of batch.rows) rows.push({ ...row, byteOffset: offsets[buffer]! });
      segmentRow = { key: segment, night, programid, sizeBytes };
    }
    const result = catalogue.record({ alerts: rows, quarantined: batch.quarantined, segments: segmentRow ? [segmentRow] : [] });
    this.counts.inserted += result.inserted;
    this.counts.inNight += result.inserted;
    // Each batch was checked against the catalogue and the batch before it, and one writer holds the
    // folder: nothing here is a duplicate unless the catalogue changed under us.
    this.counts.duplicates += result.duplicates;
    this.counts.appendedBytes += batch.bufferBytes;
  }
}
