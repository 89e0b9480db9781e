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

/** The fields of an alert's summary, in the order the query API lists them. */
export const ALERT_SUMMARY_FIELDS = ['candid', 'objectId', 'night', 'programid', 'jd', 'ra', 'dec', 'fid', 'magpsf', 'sigmapsf', 'rb', 'drb', 'schemaVersion'] as const satisfies readonly (keyof AlertRow)[];

/**
 * An alert's summary fields (light curves, cone search, time windows answer with them): those of its
 * AlertRow, the candid as a decimal string (it does not fit a JSON number).
 */
export type AlertSummary = Omit<Pick<AlertRow, (typeof ALERT_SUMMARY_FIELDS)[number]>, 'candid'> & { candid: string };

/** An alert's id, time and where its bytes are: what a subset archive needs of each member. */
export type LocatedAlert = Pick<AlertRow, 'candid' | 'night' | 'programid' | 'jd' | 'kafkaTimestamp' | 'segment' | 'byteOffset' | 'byteLength'>;

/** Alerts of one night, optionally within [fromJd, toJd) and of one filter (fid). */
export interface NightWindow {
  night: string;
  programid: number;
  fromJd?: number;
  toJd?: number;
  fid?: number;
}

/** An alert's place in (jd, candid) order: a page of a window starts after one. */
export interface JdCandid {
  jd: number;
  candid: bigint;
}

/** An RA/Dec box in degrees, RA within [0, 360]. */
export interface SkyBox {
  raMin: number;
  raMax: number;
  decMin: number;
  decMax: number;
}

/** The alerts of a night a replay sends: within [fromJd, toJd) and of the given objects, when given. */
export interface ArrivalSelection extends Omit<NightWindow, 'fid'> {
  objectIds?: readonly string[];
}

/** An archived alert in arrival order: what a replay sends. */
export interface ArrivalRow extends Pick<AlertRow, 'candid' | 'objectId' | 'jd' | 'topic' | 'partition' | 'kafkaOffset' | 'segment' | 'byteOffset' | 'byteLength'> {
  /** Original arrival time (Kafka timestamp, else the jd as whole epoch ms), ms. */
  arrivalMs: number;
}

/** How a night's rows use one segment. */
export interface SegmentUse {
  segment: string;
  alerts: number;
  /** Where the furthest row's bytes end. */
  endByte: number;
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
