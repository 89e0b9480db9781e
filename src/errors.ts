/**
 * The one error type of ZADS-TS. Every failure the system reports carries a code from the closed list
 * below, whether retrying can help, the underlying cause, and the context a person needs to find the
 * data involved (file, member, byte position, topic, partition, offset, night, candid).
 *
 * This module imports nothing, so every part — including `alert/`, which depends on nothing else of
 * ours — can use it.
 */

/** Every error code, with whether a retry can succeed. Unknown errors are never retriable. */
export const ERROR_CODES = {
  /** Bytes are not an Avro object container file (bad magic, unreadable header). */
  ALERT_NOT_CONTAINER: false,
  /** The container or bare record ends before the data it announces. */
  ALERT_TRUNCATED: false,
  /** Bytes do not decode with the writer schema (bad union index, wrong block size, bad sync marker). */
  ALERT_CORRUPT: false,
  /** A decoded record is not a ZTF alert (no objectId / candid / candidate). */
  ALERT_NOT_ZTF: false,
  /** The container uses a compression codec we cannot read. */
  ALERT_CODEC_UNSUPPORTED: false,
  /** A writer schema is not valid Avro even after the tolerated repairs. */
  SCHEMA_INVALID: false,
  /** A Confluent wire-format message names a schema id the lookup does not know. */
  SCHEMA_UNKNOWN: false,
  /** A schema version we do not ship was asked for when writing. */
  SCHEMA_VERSION_UNSUPPORTED: false,
  /** A tar or gzip stream is damaged. */
  ARCHIVE_CORRUPT: false,
  /** A path given by the user does not exist or cannot be read. */
  INPUT_NOT_FOUND: false,
  /** A path exists but is of a kind we cannot read. */
  INPUT_UNSUPPORTED: false,
  /** A configuration value or option is invalid; the message names it. */
  CONFIG_INVALID: false,
  /** A network service (Kafka, S3) could not be reached or timed out. */
  SERVICE_UNAVAILABLE: true,
  /** A Kafka broker refused our SASL credentials (wrong user, password or mechanism). */
  KAFKA_AUTH: false,
  /**
   * The Kafka broker's ACLs refused our principal an operation (write to a topic, use a group or a
   * transactional id): the config's user lacks an ACL, or the target is one it must not write.
   */
  KAFKA_NOT_AUTHORIZED: false,
  /** The TLS handshake with a Kafka broker failed: its certificate is not trusted, or the port does not speak TLS. */
  KAFKA_TLS: false,
  /** A newer process with the same transactional id or group member took over (zombie fenced): stop, never retry. */
  KAFKA_FENCED: false,
  /** A Kafka request or transaction did not finish in time; the broker may be slow or restarting. */
  KAFKA_TIMEOUT: true,
  /** A topic named in the request does not exist (or was deleted while in use). */
  KAFKA_TOPIC_MISSING: false,
  /** A replay's target topic is refused by the replay target policy; the message names the topic and the rule. */
  REPLAY_TOPIC_REFUSED: false,
  /** A storage write failed for lack of space. */
  STORAGE_FULL: true,
  /** No object is stored under that key. */
  STORAGE_NOT_FOUND: false,
  /**
   * A file, database or object could not be opened, read or written for another reason than space or absence
   * (permission denied, an I/O error, a damaged or locked database, S3 refusing the request); the cause says which.
   */
  STORAGE_IO: false,
  /** A storage key is not a safe relative path (absolute, "..", empty segments). */
  STORAGE_KEY_INVALID: false,
  /** A ranged read asked for bytes outside the object. */
  STORAGE_RANGE_INVALID: false,
  /**
   * Stored data does not agree with what was recorded of it: a segment shorter than the catalogue says,
   * a file that changed size while it was read, a checkpoint that does not parse. Something else changed it.
   */
  DATA_MISMATCH: false,
  /** Another process writes this archive (one writer per data folder). */
  ARCHIVE_LOCKED: false,
  /** Kafka reported a failure that none of the KAFKA_* codes names; the message gives the client's reason. */
  KAFKA_FAILED: false,
  /**
   * A time limit of ours ran out (a filter call, a filter host starting): the same work would take as long
   * again, so it is not retried. A Kafka request that timed out is KAFKA_TIMEOUT.
   */
  TIMEOUT: false,
  /** A worker thread or child process (deflate worker, filter worker, Python filter host) failed, exited or broke its protocol. */
  WORKER_FAILED: false,
  /** Work was asked of a component after it was closed or aborted, or was still in flight when it closed. */
  CLOSED: false,
  /** A bug: to be reported, never retried (whatever `retriable` option it is given). */
  INTERNAL: false,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where the data involved in an error lives. Every key is optional; fill in what is known. */
export interface ErrorContext {
  file?: string;
  member?: string;
  /** Byte position in the file (or member, or message value) at which the damage was found. */
  bytePosition?: number;
  topic?: string;
  partition?: number;
  offset?: string;
  night?: string;
  candid?: string;
  [key: string]: string | number | boolean | undefined;
}

export interface ZadsErrorOptions {
  cause?: unknown;
  context?: ErrorContext;
  /** Overrides the code's default retriability (e.g. a transient network error inside a fatal code); never makes INTERNAL retriable. */
  retriable?: boolean;
}

export class ZadsError extends Error {
  override readonly name = 'ZadsError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: ZadsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // A bug stays a bug however it is wrapped: retrying runs it again.
    this.retriable = code !== 'INTERNAL' && (options.retriable ?? ERROR_CODES[code]);
    this.context = { ...options.context };
  }

  /** One line for a terminal: the message followed by the context that locates the data. */
  describe(): string {
    const where = Object.entries(this.context)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    return where ? `${this.message} (${where})` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; retriable: boolean; context: ErrorContext } {
    return { code: this.code, message: this.message, retriable: this.retriable, context: this.context };
  }
}

export function isZadsError(err: unknown, code?: ErrorCode): err is ZadsError {
  return err instanceof ZadsError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a ZadsError; an unknown error becomes INTERNAL (fatal). */
export function toZadsError(err: unknown, context?: ErrorContext): ZadsError {
  if (err instanceof ZadsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ZadsError('INTERNAL', message, { cause: err, context });
}
