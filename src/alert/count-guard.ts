import avro from 'avsc';
import type { Type } from 'avsc';

/*
 * avsc trusts the item count that prefixes every Avro array and map block: a flipped byte that turns
 * "30 prv_candidates" into "2^30" makes it allocate and loop a billion times before noticing the buffer
 * has ended. A guarded reader refuses a count larger than the bytes left, since every item here takes at
 * least one byte. This reaches into avsc's Tap (pos, buf, _invalidate), which is stable across 5.x.
 */

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  _invalidate(): void;
}

interface ReadableType {
  typeName: string;
  _read(tap: Tap): unknown;
  itemsType?: ReadableType;
  valuesType?: ReadableType;
  types?: ReadableType[];
  fields?: { type: ReadableType }[];
}

function guardedArrayRead(this: ReadableType, tap: Tap): unknown[] {
  const items = this.itemsType!;
  const out: unknown[] = [];
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong();
    }
    if (n > tap.buf.length - tap.pos) {
      tap._invalidate();
      return out;
    }
    while (n-- > 0) {
      out.push(items._read(tap));
      if (tap.pos > tap.buf.length) return out;
    }
  }
  return out;
}

function guardedMapRead(this: ReadableType, tap: Tap): Record<string, unknown> {
  const values = this.valuesType!;
  const out: Record<string, unknown> = {};
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      n = -n;
      tap.skipLong();
    }
    if (n > tap.buf.length - tap.pos) {
      tap._invalidate();
      return out;
    }
    while (n-- > 0) {
      const key = (tap as unknown as { readString(): string }).readString();
      out[key] = values._read(tap);
      if (tap.pos > tap.buf.length) return out;
    }
  }
  return out;
}

/** Can a value of this type be encoded in zero bytes? Then counts cannot be bounded by bytes left. */
function mayBeEmpty(type: ReadableType): boolean {
  if (type.typeName === 'null') return true;
  if (type.typeName === 'record' || type.typeName === 'error') {
    return (type.fields ?? []).every((f) => f.type !== undefined && mayBeEmpty(f.type));
  }
  return false;
}

// avsc freezes its type instances, so the guarded readers live on subclasses, created through typeHook.
const ArrayBase = avro.types.ArrayType as unknown as new (schema: unknown, opts: unknown) => ReadableType;
const MapBase = avro.types.MapType as unknown as new (schema: unknown, opts: unknown) => ReadableType;

class GuardedArrayType extends ArrayBase {
  override _read(tap: Tap): unknown {
    return mayBeEmpty(this.itemsType!) ? super._read(tap) : guardedArrayRead.call(this, tap);
  }
}

class GuardedMapType extends MapBase {
  override _read(tap: Tap): unknown {
    return guardedMapRead.call(this, tap);
  }
}

/** A `typeHook` for avro.Type.forSchema that gives every array and map a count-checking reader. */
export function guardedCountsHook(schema: unknown, opts: unknown): Type | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const kind = (schema as { type?: unknown }).type;
  if (kind === 'array') return new GuardedArrayType(schema, opts) as unknown as Type;
  if (kind === 'map') return new GuardedMapType(schema, opts) as unknown as Type;
  return undefined;
}
