import type { ZadsError } from '../../errors.ts';

/** Members (or alert files) per catalogue batch, unless `batchMembers` says otherwise. */
export const DEFAULT_BATCH_MEMBERS = 500;
/** Bytes of alert data per catalogue batch, unless `batchBytes` says otherwise: 32 MiB. */
export const DEFAULT_BATCH_BYTES = 32 * 1024 * 1024;

export interface ImportOptions {
  /**
   * The night (YYYYMMDD) of every input, instead of the one in a tarball's name. Needed for tarballs
   * whose name does not follow the UW layout and for plain `.avro` files and folders. Give it with
   * `programid`.
   */
  night?: string;
  /** The programid of every input, with `night`. */
  programid?: number;
  /** Members (or alert files) per catalogue batch. Default DEFAULT_BATCH_MEMBERS (500). */
  batchMembers?: number;
  /** Bytes of alert data per catalogue batch. Default DEFAULT_BATCH_BYTES (32 MiB). */
  batchBytes?: number;
  /** Called as the import advances: after each member and at the end of each input. */
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  /** The input being imported, as given. */
  file: string;
  /** Its position among the inputs (0-based) and how many there are. */
  index: number;
  count: number;
  /** Bytes of the input file read so far, and its size (compressed bytes, for a tarball; 0 for a folder). */
  readBytes: number;
  sizeBytes: number;
  /** Alerts found in this input so far. */
  alerts: number;
  /** Set once the input is finished, with its report. */
  done?: FileReport;
}

export interface FileReport {
  /** The input as given. */
  file: string;
  /** What the input turned out to be ('unknown' when it could not be read). */
  kind: 'tarball' | 'alerts' | 'unknown';
  night: string | null;
  programid: number | null;
  /** The segment its alert bytes went to. */
  segment: string | null;
  /** Alerts found in it (every alert of every member that decoded). */
  alerts: number;
  /** Alerts the catalogue did not have: recorded now. */
  inserted: number;
  /** Alerts the catalogue already had (an earlier import or ingest): not stored again. */
  duplicates: number;
  /** Members or files that did not decode: kept in the quarantine. */
  quarantined: number;
  /** Members holding more than one alert (UW members hold one): each alert points at the member's bytes. */
  multiAlertMembers: number;
  /** Bytes of alert data read (members, or files). */
  bytes: number;
  /** Bytes appended to the segment (duplicates are not appended). */
  appendedBytes: number;
  /** Whether the night now counts as closed with this file as its tarball. */
  closed: boolean;
  /** The night's tarball, when this file was installed as it. */
  tarball?: { key: string; md5: string; sizeBytes: number };
  /** What a person should know: why the night stays open, members quarantined. */
  notes: string[];
  /** Why the input could not be imported (whole or in part); other inputs go on. */
  error?: ZadsError;
  seconds: number;
}

export interface ImportReport {
  /** Inputs given. */
  files: number;
  /** Inputs that failed in whole or in part (see each file's `error`). */
  failed: number;
  alerts: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
  bytes: number;
  seconds: number;
  perFile: FileReport[];
}
