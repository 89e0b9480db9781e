/** One archived alert: its summary fields and where its exact bytes are. */
export interface AlertRow {
  candid: bigint;
  objectId: string;
  /** YYYYMMDD of the topic (or tarball) it came from, never computed from jd. */
  night: string;
  programid: number;
  jd: number;
  ra: number;
  dec: number;
  fid: number;
  magpsf: number | null;
  sigmapsf: number | null;
  rb: number | null;
  drb: number | null;
  schemaVersion: string;
  /** Kafka position, when it came from Kafka (null for imports). */
  topic: string | null;
  partition: number | null;
  kafkaOffset: bigint | null;
  kafkaTimestamp: number | null;
  /** Segment key (relative to the data folder) and the byte range of the message in it. */
  segment: string;
  byteOffset: number;
  byteLength: number;
}

export interface QuarantineRow {
  topic: string | null;
  partition: number | null;
  kafkaOffset: bigint | null;
  /** File or tarball member it came from, for imports. */
  source: string | null;
  code: string;
  reason: string;
  /** Where its bytes are kept, relative to the data folder. */
  key: string;
  byteLength: number;
}

export interface PositionRow {
  topic: string;
  partition: number;
  /** The next Kafka offset to archive. */
  nextOffset: bigint;
}

export interface SegmentRow {
  key: string;
  night: string;
  programid: number;
  /** Bytes of the segment the catalogue accounts for; anything past it is cut on restart. */
  sizeBytes: number;
}

export type NightState = 'open' | 'closed';

export interface NightRow {
  night: string;
  programid: number;
  state: NightState;
  alerts: number;
  bytes: number;
  firstJd: number | null;
  lastJd: number | null;
  /** Epoch ms of the last alert archived. */
  lastAlertAt: number | null;
  closedAt: number | null;
  /** How many times late alerts reopened the night after a close. */
  reopened: number;
  tarballKey: string | null;
  tarballBytes: number | null;
  tarballMd5: string | null;
  tarballAlerts: number | null;
  /** Where the closed night lives: 'local', 's3' or 'local+s3'. */
  stored: string;
}

/** What one ingest (or import) step hands to the catalogue, recorded in one transaction. */
export interface CatalogueBatch {
  alerts: AlertRow[];
  quarantined?: QuarantineRow[];
  positions?: PositionRow[];
  segments?: SegmentRow[];
}

export interface BatchResult {
  inserted: number;
  /** Rows whose candid the catalogue already had (a re-delivery): not recorded again. */
  duplicates: number;
}
