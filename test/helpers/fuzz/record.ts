import { readLong } from './varint.ts';

/*
 * Where the varints of a record are: a reader of Avro binary that notes every int, long, length, count
 * and union index it passes, so a mutator can tamper with exactly those.
 */

export type VarintKind = 'int' | 'long' | 'length' | 'count' | 'union';

export interface VarintAt {
  pos: number;
  end: number;
  value: bigint;
  kind: VarintKind;
  path: string;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The namespace names inside a named type live in: its own, its dotted name's, or the enclosing one. */
function namespaceOf(s: { [k: string]: Json }, enclosing: string | undefined): string | undefined {
  if (typeof s.namespace === 'string') return s.namespace;
  const name = typeof s.name === 'string' ? s.name : undefined;
  return name?.includes('.') ? name.slice(0, name.lastIndexOf('.')) : enclosing;
}

/** Every varint of one record written with `schema` (JSON) starting at `start`; also where it ends. */
export function locateVarints(schema: Json, bytes: Buffer, start = 0): { varints: VarintAt[]; end: number } {
  const named = new Map<string, Json>();
  const varints: VarintAt[] = [];
  let pos = start;
  const long = (kind: VarintKind, path: string): bigint => {
    const r = readLong(bytes, pos);
    varints.push({ pos, end: r.end, value: r.value, kind, path });
    pos = r.end;
    return r.value;
  };
  // A separate statement: `pos += long(...)` would add to the position from before the varint.
  const skip = (n: bigint): void => {
    pos += Number(n);
  };
  const fullName = (name: string, ns: string | undefined): string => (name.includes('.') || !ns ? name : `${ns}.${name}`);
  const resolve = (name: string, ns: string | undefined): Json => {
    const found = named.get(fullName(name, ns)) ?? named.get(name);
    if (found === undefined) throw new Error(`unknown type ${name}`);
    return found;
  };
  const walk = (s: Json, ns: string | undefined, path: string): void => {
    if (typeof s === 'string') {
      switch (s) {
        case 'null':
          return;
        case 'boolean':
          pos += 1;
          return;
        case 'int':
          long('int', path);
          return;
        case 'long':
          long('long', path);
          return;
        case 'float':
          pos += 4;
          return;
        case 'double':
          pos += 8;
          return;
        case 'bytes':
        case 'string':
          skip(long('length', path));
          return;
        default: {
          const t = resolve(s, ns);
          walk(t, (t as { namespace?: string }).namespace ?? ns, path);
          return;
        }
      }
    }
    if (Array.isArray(s)) {
      const branch = long('union', path);
      walk(s[Number(branch)]!, ns, path);
      return;
    }
    if (s === null || typeof s !== 'object') throw new Error(`bad schema at ${path}: ${JSON.stringify(s)}`);
    const type = s.type as string;
    const ownNs = namespaceOf(s, ns);
    switch (type) {
      case 'record':
      case 'error':
        for (const f of s.fields as { name: string; type: Json }[]) walk(f.type, ownNs, `${path}.${f.name}`);
        return;
      case 'enum':
        long('int', path);
        return;
      case 'fixed':
        pos += s.size as number;
        return;
      case 'array':
      case 'map':
        for (;;) {
          let n = long('count', path);
          if (n === 0n) return;
          if (n < 0n) {
            n = -n;
            long('length', path);
          }
          for (let i = 0n; i < n; i++) {
            if (type === 'map') skip(long('length', `${path}{}`));
            walk((type === 'map' ? s.values : s.items) as Json, ns, `${path}[]`);
          }
        }
      default:
        walk(type as Json, ns, path);
    }
  };
  // Named types are declared where they first appear in the schema, which the data may never reach.
  const declare = (s: Json, ns: string | undefined): void => {
    if (Array.isArray(s)) return s.forEach((x) => declare(x, ns));
    if (s === null || typeof s !== 'object') return;
    const own = namespaceOf(s, ns);
    if (typeof s.name === 'string' && ['record', 'enum', 'fixed', 'error'].includes(s.type as string)) named.set(fullName(s.name, own), s);
    for (const f of Array.isArray(s.fields) ? s.fields : []) declare((f as { type: Json }).type, own);
    for (const k of ['items', 'values', 'type'] as const) if (typeof s[k] === 'object') declare(s[k]!, own);
  };
  declare(schema, undefined);
  walk(schema, undefined, '');
  return { varints, end: pos };
}
