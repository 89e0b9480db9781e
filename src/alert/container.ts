import { randomBytes } from 'node:crypto';
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { ZadsError } from '../errors.ts';
import type { ErrorContext } from '../errors.ts';
import { boundedTypeHook } from './bounded.ts';
import type { AlertSource, DecodedAlert, ZtfAlert } from './types.ts';
import { defaultSchemaCache } from './writer-schema.ts';
import type { SchemaCache, WriterSchema } from './writer-schema.ts';

/** The four bytes every Avro object container file starts with. */
export const CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
const SYNC_SIZE = 16;
/** Largest block a deflate container may inflate to, bytes (a ZTF alert is 40–200 KB). */
export const MAX_INFLATED_BLOCK_BYTES = 64 * 1024 * 1024;

const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: SYNC_SIZE } },
  ],
}, { typeHook: boundedTypeHook });
const LONG_TYPE = avro.Type.forSchema('long');

interface Header {
  magic: Buffer;
  meta: Record<string, Buffer>;
  sync: Buffer;
}

export interface ReadOptions {
  /** Where the bytes came from; copied into every alert and error. */
  source?: AlertSource;
  /** Parsed writer schemas; defaults to a process-wide cache. */
  cache?: SchemaCache;
}

export function contextOf(source: AlertSource | undefined, bytePosition?: number): ErrorContext {
  return {
    file: source?.file,
    member: source?.member,
    topic: source?.topic,
    partition: source?.partition,
    offset: source?.offset,
    bytePosition,
  };
}

/** Does this buffer start like an Avro object container file? */
export function isContainer(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.subarray(0, 4).equals(CONTAINER_MAGIC);
}

/** Checks that a decoded record is a ZTF alert, so nothing downstream meets a half-formed one. */
export function asZtfAlert(value: unknown, source: AlertSource | undefined, bytePosition: number): ZtfAlert {
  const v = value as Partial<ZtfAlert> | null;
  if (
    v === null ||
    typeof v !== 'object' ||
    typeof v.objectId !== 'string' ||
    typeof v.candid !== 'bigint' ||
    typeof v.candidate !== 'object' ||
    v.candidate === null
  ) {
    throw new ZadsError('ALERT_NOT_ZTF', 'record is not a ZTF alert (needs objectId, candid and candidate)', {
      context: contextOf(source, bytePosition),
    });
  }
  // What the catalogue files an alert under. A schema with these fields renamed or retyped (string for
  // double, long for int) still decodes; so do damaged doubles (NaN) — such a record is no usable alert.
  const c = v.candidate as Record<string, unknown>;
  const bad = CANDIDATE_NUMBERS.find((k) => typeof c[k] !== 'number' || !Number.isFinite(c[k]) || (k === 'fid' && !Number.isInteger(c[k])));
  if (bad !== undefined) {
    throw new ZadsError('ALERT_NOT_ZTF', `record is not a ZTF alert: candidate.${bad} is ${describeValue(c[bad])}, not a finite ${bad === 'fid' ? 'integer' : 'number'}`, {
      context: contextOf(source, bytePosition),
    });
  }
  return v as ZtfAlert;
}

/** Candidate fields every alert has and the archive indexes (time, sky position, filter). */
const CANDIDATE_NUMBERS = ['jd', 'ra', 'dec', 'fid'] as const;

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'number') return String(value);
  return `a ${Buffer.isBuffer(value) ? 'byte string' : typeof value}`;
}

function readHeader(bytes: Buffer, source: AlertSource | undefined): { header: Header; end: number } {
  if (!isContainer(bytes)) {
    throw new ZadsError(
      'ALERT_NOT_CONTAINER',
      `not an Avro container file: starts with ${JSON.stringify(bytes.subarray(0, 4).toString('latin1'))}, expected "Obj\\u0001"`,
      { context: contextOf(source, 0) },
    );
  }
  let decoded: { value: unknown; offset: number };
  try {
    decoded = HEADER_TYPE.decode(bytes, 0);
  } catch (cause) {
    throw new ZadsError('ALERT_CORRUPT', 'container header is damaged', { cause, context: contextOf(source, 4) });
  }
  if (decoded.offset < 0) {
    throw new ZadsError('ALERT_TRUNCATED', `container header runs past the end of the data (${bytes.length} bytes)`, {
      context: contextOf(source, bytes.length),
    });
  }
  return { header: decoded.value as Header, end: decoded.offset };
}

interface Preamble {
  schema: WriterSchema;
  codec: 'null' | 'deflate';
  sync: Buffer;
  headerEnd: number;
}

/*
 * Every ZTF message carries the same ~23 KB header (magic and metadata with the schema text); only the
 * 16-byte sync marker after it changes from file to file. Comparing the header bytes with the last
 * header seen skips decoding the metadata map and copying the schema out of it.
 */
let lastMeta: { bytes: Buffer; schema: WriterSchema; codec: 'null' | 'deflate'; cache: SchemaCache } | undefined;

function readPreamble(bytes: Buffer, source: AlertSource | undefined, cache: SchemaCache): Preamble {
  const last = lastMeta;
  if (last && last.cache === cache && bytes.length > last.bytes.length + SYNC_SIZE && bytes.subarray(0, last.bytes.length).equals(last.bytes)) {
    const metaEnd = last.bytes.length;
    return { schema: last.schema, codec: last.codec, sync: bytes.subarray(metaEnd, metaEnd + SYNC_SIZE), headerEnd: metaEnd + SYNC_SIZE };
  }
  const { header, end: headerEnd } = readHeader(bytes, source);
  const schemaBytes = header.meta['avro.schema'];
  if (!schemaBytes) {
    throw new ZadsError('ALERT_NOT_CONTAINER', 'container header has no avro.schema', { context: contextOf(source, 4) });
  }
  const codec = header.meta['avro.codec']?.toString('latin1') || 'null';
  if (codec !== 'null' && codec !== 'deflate') {
    throw new ZadsError('ALERT_CODEC_UNSUPPORTED', `container codec "${codec}" is not supported (null and deflate are)`, {
      context: contextOf(source, 4),
    });
  }
  let schema: WriterSchema;
  try {
    schema = cache.fromBytes(schemaBytes, 'embedded writer schema');
  } catch (err) {
    if (err instanceof ZadsError) Object.assign(err.context, contextOf(source, 4));
    throw err;
  }
  const metaEnd = headerEnd - SYNC_SIZE;
  lastMeta = { bytes: Buffer.from(bytes.subarray(0, metaEnd)), schema, codec, cache };
  return { schema, codec, sync: header.sync, headerEnd };
}

/** Decodes one record of a block starting at `at`: its value and the position after it (< 0: past the end). */
export type RecordDecoder = (data: Buffer, at: number) => { value: unknown; offset: number };

/** Reads every field of a record with its writer schema. */
export const fullRecord = (schema: WriterSchema): RecordDecoder => (data, at) => schema.type.decode(data, at);

/**
 * Yields every alert of an Avro object container file, decoded with the file's own writer schema.
 * Damage stops the iteration with a ZadsError naming the byte position; every alert of the blocks
 * before it has been yielded by then. A block's alerts are yielded only once the whole block has
 * decoded to exactly its announced size and its sync marker matches, so damage is never passed on
 * as data.
 */
export function iterateContainer(bytes: Buffer, options: ReadOptions = {}): Generator<DecodedAlert> {
  return iterateRecords(bytes, options, fullRecord) as Generator<DecodedAlert>;
}

/**
 * {@link iterateContainer} with the records read by a decoder of the caller's choosing for each writer
 * schema (e.g. one that reads only some fields: payload.ts decodeCatalogueFields); every check of the
 * container's framing and of the records' extent is the same.
 */
export function* iterateRecords<A extends { objectId: string; candid: bigint }>(
  bytes: Buffer,
  options: ReadOptions,
  decoderOf: (schema: WriterSchema) => RecordDecoder,
): Generator<DecodedAlert<A>> {
  const { source } = options;
  const { schema, codec, sync, headerEnd } = readPreamble(bytes, source, options.cache ?? defaultSchemaCache);
  const decode = decoderOf(schema);
  let pos = headerEnd;
  while (pos < bytes.length) {
    const blockStart = pos;
    const count = readBlockLong(bytes, pos, 'record count', source);
    const size = readBlockLong(bytes, count.offset, 'byte size', source);
    pos = size.offset;
    if (count.value < 0 || size.value < 0) {
      throw new ZadsError('ALERT_CORRUPT', `block at byte ${blockStart} has a negative count or size`, {
        context: contextOf(source, blockStart),
      });
    }
    const dataEnd = pos + size.value;
    if (dataEnd + SYNC_SIZE > bytes.length) {
      throw new ZadsError(
        'ALERT_TRUNCATED',
        `block at byte ${blockStart} announces ${size.value} bytes and a sync marker, but the data ends at byte ${bytes.length}`,
        { context: contextOf(source, bytes.length) },
      );
    }
    if (!bytes.subarray(dataEnd, dataEnd + SYNC_SIZE).equals(sync)) {
      throw new ZadsError('ALERT_CORRUPT', `block at byte ${blockStart} does not end with the file's sync marker`, {
        context: contextOf(source, dataEnd),
      });
    }
    let data = bytes.subarray(pos, dataEnd);
    if (codec === 'deflate') {
      try {
        // Bounded: a few KB of deflated zeros would otherwise inflate to gigabytes in one allocation.
        data = inflateRawSync(data, { maxOutputLength: MAX_INFLATED_BLOCK_BYTES });
      } catch (cause) {
        const tooBig = (cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        throw new ZadsError('ALERT_CORRUPT', `block at byte ${blockStart} ${tooBig ? `inflates to more than ${MAX_INFLATED_BLOCK_BYTES} bytes` : 'does not inflate'}`, {
          cause,
          context: contextOf(source, pos),
        });
      }
    }
    // Positions inside inflated data are not positions in the file: errors there name the block.
    const alerts = decodeBlock<A>(data, count.value, schema, decode, source, codec === 'null' ? (rp) => pos + rp : () => blockStart);
    pos = dataEnd + SYNC_SIZE;
    yield* alerts;
  }
}

function readBlockLong(
  bytes: Buffer,
  pos: number,
  what: string,
  source: AlertSource | undefined,
): { value: number; offset: number } {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = LONG_TYPE.decode(bytes, pos);
  } catch (cause) {
    throw new ZadsError('ALERT_CORRUPT', `block ${what} at byte ${pos} is not a valid Avro long`, {
      cause,
      context: contextOf(source, pos),
    });
  }
  if (decoded.offset < 0) {
    throw new ZadsError('ALERT_TRUNCATED', `data ends inside the block ${what} at byte ${pos}`, {
      context: contextOf(source, pos),
    });
  }
  return { value: decoded.value as number, offset: decoded.offset };
}

function decodeBlock<A>(
  data: Buffer,
  count: number,
  schema: WriterSchema,
  decode: RecordDecoder,
  source: AlertSource | undefined,
  positionOf: (rp: number) => number,
): DecodedAlert<A>[] {
  const out: DecodedAlert<A>[] = [];
  let rp = 0;
  for (let i = 0; i < count; i++) {
    const at = positionOf(rp);
    let decoded: { value: unknown; offset: number };
    try {
      decoded = decode(data, rp);
    } catch (cause) {
      throw new ZadsError(
        'ALERT_CORRUPT',
        `record ${i} does not decode with its writer schema (${schema.version}): ${(cause as Error).message}`,
        { cause, context: contextOf(source, at) },
      );
    }
    if (decoded.offset < 0) {
      throw new ZadsError('ALERT_CORRUPT', `record ${i} runs past the end of its block`, { context: contextOf(source, at) });
    }
    out.push({ alert: asZtfAlert(decoded.value, source, at) as A, schema, source: source ?? {}, bytePosition: at });
    rp = decoded.offset;
  }
  if (rp !== data.length) {
    throw new ZadsError(
      'ALERT_CORRUPT',
      `block holds ${data.length - rp} bytes more than its ${count} record(s) use: the data does not match its writer schema`,
      { context: contextOf(source, positionOf(rp)) },
    );
  }
  return out;
}

/** Reads every alert of a container file; throws on damage (use iterateContainer to keep the alerts before it). */
export function readContainer(bytes: Buffer, options: ReadOptions = {}): DecodedAlert[] {
  return [...iterateContainer(bytes, options)];
}

export interface WriteOptions {
  /** "null" (the ZTF default) or "deflate". */
  codec?: 'null' | 'deflate';
  /** The 16-byte sync marker; random by default. */
  sync?: Buffer;
  /**
   * Check each alert against the schema before encoding, so a wrong value is refused with its field
   * path instead of being written (avsc writes a string given for a double as NaN). Default true; a
   * caller that builds alerts from the schema itself (the simulator) may turn it off.
   */
  validate?: boolean;
}

// One encoding buffer, grown on demand: avsc's toBuffer encodes a 45 KB alert twice (its pool is small).
let scratch = Buffer.alloc(1024 * 1024);

function encodeRecord(schema: WriterSchema, alert: unknown): Buffer {
  for (;;) {
    const end = schema.type.encode(alert, scratch, 0);
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    scratch = Buffer.alloc(Math.max(scratch.length * 2, scratch.length - end));
  }
}

/**
 * Writes alerts as one Avro object container file (one block), embedding the schema text exactly as
 * given, as ZTF does. Each alert is checked against the schema first; the error names the bad field.
 */
export function writeContainer(alerts: readonly unknown[], schema: WriterSchema, options: WriteOptions = {}): Buffer {
  const codec = options.codec ?? 'null';
  const sync = options.sync ?? randomBytes(SYNC_SIZE);
  const parts: Buffer[] = [];
  alerts.forEach((alert, i) => {
    const bad: string[] = [];
    if (options.validate !== false && !schema.type.isValid(alert, { errorHook: (path) => bad.push(path.join('.') || '(root)') })) {
      throw new ZadsError('ALERT_CORRUPT', `alert ${i} does not match schema ${schema.version}: bad field ${bad[0]}`, {
        context: { field: bad[0] },
      });
    }
    parts.push(encodeRecord(schema, alert));
  });
  let data = Buffer.concat(parts);
  if (codec === 'deflate') data = deflateRawSync(data);
  const header = HEADER_TYPE.toBuffer({
    magic: CONTAINER_MAGIC,
    meta: { 'avro.schema': Buffer.from(schema.text, 'utf8'), 'avro.codec': Buffer.from(codec, 'latin1') },
    sync,
  });
  return Buffer.concat([header, LONG_TYPE.toBuffer(alerts.length), LONG_TYPE.toBuffer(data.length), data, sync]);
}
