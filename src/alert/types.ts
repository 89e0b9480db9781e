import type { WriterSchema } from './writer-schema.ts';

/**
 * The fields of a ZTF candidate that ZADS itself reads. Every other field of the writer schema is kept
 * as decoded (Avro `long` as bigint, `bytes` as Buffer, nullable fields as null).
 */
export interface ZtfCandidate {
  jd: number;
  fid: number;
  pid: bigint;
  candid: bigint;
  programid: number;
  ra: number;
  dec: number;
  magpsf: number;
  sigmapsf: number;
  rb?: number | null;
  drb?: number | null;
  [field: string]: unknown;
}

export interface ZtfPrvCandidate {
  jd: number;
  fid: number;
  candid: bigint | null;
  magpsf: number | null;
  sigmapsf: number | null;
  diffmaglim: number | null;
  [field: string]: unknown;
}

export interface ZtfCutout {
  fileName: string;
  /** Gzipped FITS image (63x63, BITPIX -32 at ZTF). */
  stampData: Buffer;
}

/** A decoded ZTF alert record. */
export interface ZtfAlert {
  /** The `schemavsn` field; absent before 2.0 and not always equal to the real writer schema version. */
  schemavsn?: string;
  publisher?: string;
  objectId: string;
  candid: bigint;
  candidate: ZtfCandidate;
  prv_candidates: ZtfPrvCandidate[] | null;
  cutoutScience: ZtfCutout | null;
  cutoutTemplate: ZtfCutout | null;
  cutoutDifference: ZtfCutout | null;
  [field: string]: unknown;
}

/** Where an alert came from, for messages and error reports. */
export interface AlertSource {
  /** Path of the file read (a .avro file or a tarball). */
  file?: string;
  /** Member name inside a tarball. */
  member?: string;
  topic?: string;
  partition?: number;
  /** Kafka offset, as a string (64-bit). */
  offset?: string;
}

/** One alert decoded from bytes, with its writer schema and where it came from. */
export interface DecodedAlert<A = ZtfAlert> {
  /** The alert record; a caller that asked for some fields only (e.g. CatalogueAlert) gets those. */
  alert: A;
  schema: WriterSchema;
  source: AlertSource;
  /** Byte position of the record inside the container file or message value it was read from. */
  bytePosition: number;
}
