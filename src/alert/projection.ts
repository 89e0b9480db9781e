import avro from 'avsc';
import type { Resolver, Schema, Type } from 'avsc';
import { boundedTypeHook } from './bounded.ts';
import { BigIntLongType } from './long.ts';
import type { ZtfCandidate } from './types.ts';
import type { WriterSchema } from './writer-schema.ts';
import { withoutDefaults } from './writer-schema.ts';

/** The candidate fields the catalogue files an alert under (src/archive/catalogue/rows.ts). */
export const CATALOGUE_CANDIDATE_FIELDS = ['jd', 'ra', 'dec', 'fid', 'magpsf', 'sigmapsf', 'rb', 'drb'] as const;

/** What the catalogue reads of an alert: every ZtfAlert is one, and so is an alert read with {@link catalogueReader}. */
export interface CatalogueAlert {
  objectId: string;
  candid: bigint;
  candidate: Pick<ZtfCandidate, (typeof CATALOGUE_CANDIDATE_FIELDS)[number]>;
}

/** Reads one record of a writer schema into a {@link CatalogueAlert}, skipping every other field. */
export interface CatalogueReader {
  decode(data: Buffer, at: number): { value: unknown; offset: number };
}

const readers = new WeakMap<WriterSchema, CatalogueReader | null>();

/**
 * A reader of only the catalogue's fields for records of this writer schema, or null when the schema is
 * not shaped like a ZTF alert (the caller then decodes in full).
 *
 * Why: a ZTF alert is ~70 KB, nearly all of it three gzipped FITS cutouts (bytes, which a full decode
 * copies) and the 30-day history of ~30 prv_candidates of ~40 fields each (one object and one BigInt
 * buffer per long, for each); the catalogue wants 10 numbers and a string. Read through an Avro schema
 * resolution (reader = the writer with only those fields), the rest is skipped where it lies: every
 * length, count and union branch of it is still read and checked, arrays with the same bounded counts
 * as a full decode (bounded.ts), and the record must still end exactly where the block says. A record
 * the reader refuses is decoded again in full by the caller, so its error is the one a full decode
 * gives; test/alert/fuzz.test.ts checks on thousands of damaged alerts that this reader accepts
 * exactly what a full decode accepts, with the same catalogue fields.
 */
export function catalogueReader(schema: WriterSchema): CatalogueReader | null {
  let reader = readers.get(schema);
  if (reader === undefined) {
    reader = buildReader(schema);
    readers.set(schema, reader);
  }
  return reader;
}

interface RecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  fields: { name: string; type: unknown }[];
}

function isRecord(s: unknown): s is RecordSchema {
  return typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'record' && Array.isArray((s as { fields?: unknown }).fields);
}

function buildReader(schema: WriterSchema): CatalogueReader | null {
  try {
    const writer = withoutDefaults(JSON.parse(schema.text)) as unknown;
    if (!isRecord(writer)) return null;
    const candidate = writer.fields.find((f) => f.name === 'candidate');
    // The candidate record must be defined in its own field (as in every ZTF schema), not by reference to
    // a record defined in a field this reader leaves out.
    if (!candidate || !isRecord(candidate.type)) return null;
    const keep = new Set<string>(CATALOGUE_CANDIDATE_FIELDS);
    const projected = {
      ...writer,
      fields: writer.fields
        .filter((f) => f.name === 'objectId' || f.name === 'candid' || f.name === 'candidate')
        .map((f) => (f === candidate ? { ...f, type: { ...candidate.type as RecordSchema, fields: (candidate.type as RecordSchema).fields.filter((c) => keep.has(c.name)) } } : f)),
    };
    const type: Type = avro.Type.forSchema(projected as Schema, { wrapUnions: false, registry: { long: BigIntLongType }, typeHook: boundedTypeHook });
    const resolver: Resolver = type.createResolver(schema.type);
    return { decode: (data, at) => type.decode(data, at, resolver) };
  } catch {
    return null;
  }
}
