import type { Readable } from 'node:stream';

/** What a store knows of one object. */
export interface ObjectInfo {
  key: string;
  sizeBytes: number;
  /** Changes whenever the content changes; quoted, as HTTP ETags are. */
  etag: string;
  modified: Date;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. `end` defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface PutOptions {
  contentType?: string;
}

/**
 * Where nights are kept: a local folder or an S3 bucket, behind one interface so every reader
 * (downloads, replay, queries) works on both. Keys are relative paths with "/" separators.
 */
export interface ObjectStore {
  /** A short description for logs and errors, e.g. "local:/data" or "s3://bucket/prefix". */
  readonly name: string;
  /** Stores the object; durable when the promise resolves (fsync'd locally, acknowledged by S3). */
  put(key: string, body: Buffer | Readable, options?: PutOptions): Promise<ObjectInfo>;
  /** Streams the object, or a byte range of it. Throws STORAGE_NOT_FOUND when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** The object's size and ETag, or undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Keys under a prefix, in lexical order. */
  list(prefix?: string): AsyncIterable<ObjectInfo>;
  /** Removes the object; absent is not an error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
