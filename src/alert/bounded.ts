import avro from 'avsc';
import type { Schema, Type } from 'avsc';

/**
 * Array and map types whose reader refuses a block count the remaining bytes cannot hold (and, for
 * readers of some fields, enums skipped as strictly as they are read: see CheckedEnumType).
 *
 * avsc reads a block of n items by looping n times, whatever n is. A damaged count — 2^62, or a varint
 * of more than 64 bits, which avsc reads as a float near 1e21 — turns one bad message into hours of
 * CPU (items read past the end cost nothing and end nothing) or an out-of-memory crash of the whole
 * process. Found by fuzzing (test/alert/fuzz.test.ts): a container header whose metadata map count was
 * an over-long varint hung the reader.
 */

/** The part of avsc's Tap (its read cursor) these readers use. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}

interface Readable {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

/** Items that encode to no bytes at all (null, empty records) are allowed this many per block. */
const MAX_EMPTY_ITEMS_PER_BLOCK = 65_536;

const minBytesOf = new WeakMap<Type, number>();

/** {@link minBytes}, worked out once per type (the first read, when the type is complete). */
function minBytesCached(type: Type): number {
  let n = minBytesOf.get(type);
  if (n === undefined) {
    n = minBytes(type);
    minBytesOf.set(type, n);
  }
  return n;
}

/** The fewest bytes a value of this type can take on the wire. */
function minBytes(type: Type, seen: Set<Type> = new Set()): number {
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'fixed':
      return (type as avro.types.FixedType).size;
    case 'record':
    case 'error': {
      if (seen.has(type)) return 1; // a recursive record goes through a union or array: at least a byte
      seen.add(type);
      return (type as avro.types.RecordType).fields.reduce((n, f) => n + minBytes(f.type, seen), 0);
    }
    default:
      return 1; // varints, strings, bytes, unions, arrays and maps take at least one byte
  }
}

/** Reads a block count (and skips a block size) and refuses one the bytes left cannot hold. */
function blockCount(tap: Tap, itemBytes: number, what: string): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong();
  }
  if (n === 0) return 0;
  const left = tap.buf.length - tap.pos;
  const limit = itemBytes > 0 ? Math.floor(left / itemBytes) : MAX_EMPTY_ITEMS_PER_BLOCK;
  if (!(n <= limit)) throw new Error(`${what} block count ${n} is more than the ${Math.max(left, 0)} bytes left can hold`);
  return n;
}

class BoundedArrayType extends avro.types.ArrayType {
  _read(tap: Tap): unknown[] {
    const items = this.itemsType as unknown as Readable;
    const itemBytes = minBytesCached(this.itemsType);
    const out: unknown[] = [];
    let n: number;
    while ((n = blockCount(tap, itemBytes, 'array'))) {
      while (n--) out.push(items._read(tap));
    }
    return out;
  }

  /**
   * Skipped (a field a resolving reader leaves out) exactly as it is read: item by item with the same
   * bounded counts, never by jumping a block's announced byte size as avsc's own skip does, so a reader
   * of some fields accepts and refuses the same bytes as a full decode (src/alert/projection.ts).
   */
  _skip(tap: Tap): void {
    const items = this.itemsType as unknown as Readable;
    const itemBytes = minBytesCached(this.itemsType);
    let n: number;
    while ((n = blockCount(tap, itemBytes, 'array'))) {
      while (n--) items._skip(tap);
    }
  }
}

class BoundedMapType extends avro.types.MapType {
  _read(tap: Tap): Record<string, unknown> {
    const values = this.valuesType as Readable;
    // Each entry has a key: a string takes at least its length byte.
    const entryBytes = 1 + minBytesCached(this.valuesType as Type);
    const out: Record<string, unknown> = {};
    let n: number;
    while ((n = blockCount(tap, entryBytes, 'map'))) {
      while (n--) {
        const key = tap.readString();
        out[key] = values._read(tap);
      }
    }
    return out;
  }

  /** Skipped entry by entry, as arrays are (above). */
  _skip(tap: Tap): void {
    const values = this.valuesType as Readable;
    const entryBytes = 1 + minBytesCached(this.valuesType as Type);
    let n: number;
    while ((n = blockCount(tap, entryBytes, 'map'))) {
      while (n--) {
        tap.readString();
        values._skip(tap);
      }
    }
  }
}

/**
 * An enum whose skip checks the index as its read does: avsc reads an index past the symbols as an
 * error but skips it as a number, so a reader of some fields (projection.ts) would accept a damaged enum
 * in a field it leaves out that a full decode refuses. Found by the codec fuzz.
 */
class CheckedEnumType extends avro.types.EnumType {
  _skip(tap: Tap): void {
    (this as unknown as Readable)._read(tap);
  }
}

/** A `typeHook` for `avro.Type.forSchema`: arrays and maps read with bounded block counts, enums skipped with their index checked. */
export function boundedTypeHook(schema: Schema, opts: unknown): Type | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const type = (schema as { type?: unknown }).type;
  if (type === 'array') return new BoundedArrayType(schema, opts);
  if (type === 'map') return new BoundedMapType(schema, opts);
  if (type === 'enum') return new CheckedEnumType(schema, opts);
  return undefined;
}
