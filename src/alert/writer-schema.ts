import { createHash } from 'node:crypto';
import avro from 'avsc';
import type { Type } from 'avsc';
import { ZadsError } from '../errors.ts';
import { boundedTypeHook } from './bounded.ts';
import { BigIntLongType } from './long.ts';
import { KNOWN_STRUCTURES } from './versions.ts';

/** A parsed writer schema, ready to decode the records written with it. */
export interface WriterSchema {
  /** SHA-256 (hex) of the schema text exactly as embedded; the cache key. */
  readonly fingerprint: string;
  /** SHA-256 (hex) of the Parsing Canonical Form: equal for schemas that differ only in docs/defaults. */
  readonly structureFingerprint: string;
  /** The ZTF version the structure matches (the declared one where several share a structure), else the declared version, else 'unknown'. */
  readonly version: string;
  /** The schema's own `version` attribute, if it has one. */
  readonly declaredVersion: string | undefined;
  /** Whether the structure is one of the published ZTF versions. */
  readonly knownStructure: boolean;
  /** The avsc type (longs as BigInt, unions unwrapped). */
  readonly type: Type;
  /** The schema text as it was embedded (kept so we can write the same schema back out). */
  readonly text: string;
}

/**
 * Removes every `default` from a writer schema. Reading never uses defaults, and ZTF schemas up to 3.3
 * declare `["float","null"]` unions with `"default": null`, which the Avro spec forbids and avsc rejects.
 * Union branches are never reordered: that would change the branch indices on the wire.
 */
export function withoutDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDefaults);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key !== 'default') out[key] = withoutDefaults(value);
  }
  return out;
}

/** Parses a schema (object or JSON text) into an avsc type with BigInt longs, tolerating invalid defaults. */
export function parseSchema(schema: unknown, label = 'schema'): WriterSchema {
  let json: unknown = schema;
  let text: string;
  if (typeof schema === 'string') {
    text = schema;
    try {
      json = JSON.parse(schema);
    } catch (cause) {
      throw new ZadsError('SCHEMA_INVALID', `${label} is not valid JSON`, { cause });
    }
  } else {
    text = JSON.stringify(schema);
  }
  let type: Type;
  try {
    type = avro.Type.forSchema(withoutDefaults(json) as avro.Schema, {
      wrapUnions: false,
      registry: { long: BigIntLongType },
      typeHook: boundedTypeHook,
    });
  } catch (cause) {
    throw new ZadsError('SCHEMA_INVALID', `${label} is not a valid Avro schema: ${(cause as Error).message}`, { cause });
  }
  const structureFingerprint = type.fingerprint('sha256').toString('hex');
  const declared = typeof json === 'object' && json !== null ? (json as { version?: unknown }).version : undefined;
  const declaredVersion = typeof declared === 'string' ? declared : undefined;
  const candidates = KNOWN_STRUCTURES.get(structureFingerprint);
  let version: string;
  if (candidates) {
    version = declaredVersion && candidates.includes(declaredVersion) ? declaredVersion : candidates[candidates.length - 1]!;
  } else {
    version = declaredVersion ?? 'unknown';
  }
  return {
    fingerprint: createHash('sha256').update(text).digest('hex'),
    structureFingerprint,
    version,
    declaredVersion,
    knownStructure: candidates !== undefined,
    type,
    text,
  };
}

/** Options of a {@link SchemaCache}. */
export interface SchemaCacheOptions {
  /** Most distinct writer schemas kept parsed; the least recently used is dropped beyond it. Default 64. */
  maxEntries?: number;
}

/**
 * Parsed writer schemas by fingerprint. Parsing the ~23 KB schema embedded in every ZTF message is the
 * known slow path of ZTF consumers; a stream almost always repeats one schema, so the last one used is
 * checked first with a byte comparison before any hashing.
 */
export class SchemaCache {
  readonly #maxEntries: number;
  readonly #byFingerprint = new Map<string, WriterSchema>();
  #lastBytes: Buffer | undefined;
  #lastSchema: WriterSchema | undefined;
  #parses = 0;

  constructor(options: SchemaCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 64;
  }

  /** Number of schemas parsed so far (cache misses). */
  get parses(): number {
    return this.#parses;
  }

  /** The parsed schema for these schema-text bytes, parsing them only the first time. */
  fromBytes(bytes: Buffer, label?: string): WriterSchema {
    if (this.#lastBytes && this.#lastSchema && bytes.equals(this.#lastBytes)) return this.#lastSchema;
    const fingerprint = createHash('sha256').update(bytes).digest('hex');
    let schema = this.#byFingerprint.get(fingerprint);
    if (schema) {
      this.#byFingerprint.delete(fingerprint);
    } else {
      schema = parseSchema(bytes.toString('utf8'), label);
      this.#parses++;
    }
    this.#byFingerprint.set(fingerprint, schema);
    if (this.#byFingerprint.size > this.#maxEntries) {
      const oldest = this.#byFingerprint.keys().next().value as string;
      this.#byFingerprint.delete(oldest);
    }
    this.#lastBytes = Buffer.from(bytes);
    this.#lastSchema = schema;
    return schema;
  }
}

/** A process-wide cache for callers that do not manage their own. */
export const defaultSchemaCache = new SchemaCache();
