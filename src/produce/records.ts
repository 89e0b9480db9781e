import avro from 'avsc';
import type { Type } from 'avsc';
import type { WriterSchema } from '../alert/index.ts';
import { ZadsError } from '../errors.ts';

/**
 * The shapes of the records a schema version writes, read from the avsc types, so a simulated alert
 * sets exactly the fields its version has, in schema order: every field we model gets its value,
 * every other nullable field null. A non-nullable field nobody models is a bug, reported by name.
 */

export interface RecordShape {
  name: string;
  fields: readonly { name: string; nullable: boolean }[];
}

export interface AlertShapes {
  alert: RecordShape;
  candidate: RecordShape;
  prvCandidate: RecordShape;
  /** Absent before schema 4.0 (no forced photometry). */
  fpHist: RecordShape | undefined;
  cutout: RecordShape;
}

function recordOf(type: Type): avro.types.RecordType | undefined {
  if (type instanceof avro.types.RecordType) return type;
  if (type instanceof avro.types.ArrayType) return recordOf(type.itemsType);
  if (type instanceof avro.types.UnwrappedUnionType) {
    for (const branch of type.types) {
      const found = recordOf(branch);
      if (found) return found;
    }
  }
  return undefined;
}

function isNullable(type: Type): boolean {
  return type instanceof avro.types.UnwrappedUnionType && type.types.some((t) => t instanceof avro.types.NullType);
}

function shapeOf(type: avro.types.RecordType): RecordShape {
  return { name: type.name ?? 'record', fields: type.fields.map((f) => ({ name: f.name, nullable: isNullable(f.type) })) };
}

const cache = new WeakMap<WriterSchema, AlertShapes>();

/** The record shapes of a ZTF alert schema. */
export function alertShapes(schema: WriterSchema): AlertShapes {
  const known = cache.get(schema);
  if (known) return known;
  const root = schema.type as avro.types.RecordType;
  const nested = (field: string, required: boolean): RecordShape | undefined => {
    const f = root.fields.find((x) => x.name === field);
    const rec = f ? recordOf(f.type) : undefined;
    if (!rec) {
      if (!required) return undefined;
      throw new ZadsError('SCHEMA_INVALID', `schema ${schema.version} has no record field "${field}"; it is not a ZTF alert schema`);
    }
    return shapeOf(rec);
  };
  const shapes: AlertShapes = {
    alert: shapeOf(root),
    candidate: nested('candidate', true)!,
    prvCandidate: nested('prv_candidates', true)!,
    fpHist: nested('fp_hists', false),
    cutout: nested('cutoutScience', true)!,
  };
  cache.set(schema, shapes);
  return shapes;
}

type Filler = (values: Record<string, unknown>, missing: (field: string) => never) => Record<string, unknown>;
const fillers = new WeakMap<RecordShape, Filler>();

function missingField(shape: RecordShape): (field: string) => never {
  return (field) => {
    throw new ZadsError('INTERNAL', `the simulation sets no value for the required field ${shape.name}.${field}`, {
      context: { field: `${shape.name}.${field}` },
    });
  };
}

/*
 * The filler of a shape is generated code returning one object literal, as avsc generates its
 * writers: a record of ~100 fields built key by key in a loop becomes a slow dictionary object, and
 * this runs for every record of every simulated alert. Field names come from a parsed Avro schema,
 * so they are plain identifiers ([A-Za-z_][A-Za-z0-9_]*); they are still quoted with JSON.stringify.
 */
function compileFiller(shape: RecordShape): Filler {
  const entries = shape.fields.map(({ name, nullable }) => {
    const key = JSON.stringify(name);
    const fallback = nullable ? 'null' : `missing(${key})`;
    return `${key}: v[${key}] ?? ${fallback}`;
  });
  return new Function('v', 'missing', `return {${entries.join(', ')}};`) as Filler;
}

/** A record of `shape` from modelled values: fields in schema order, unmodelled nullable fields null. */
export function fillRecord(shape: RecordShape, values: object): Record<string, unknown> {
  let filler = fillers.get(shape);
  if (!filler) {
    filler = compileFiller(shape);
    fillers.set(shape, filler);
  }
  return filler(values as Record<string, unknown>, missingField(shape));
}
