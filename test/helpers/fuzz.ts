import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { decodePayload, iterateContainer, iterateTarball } from '../../src/alert/index.ts';
import type { DecodedAlert, ZtfAlert } from '../../src/alert/index.ts';
import { ERROR_CODES, ZadsError } from '../../src/errors.ts';
import { Rng, hashInts } from '../../src/produce/rng.ts';
import { BROKEN_FILE, SAMPLE_TARBALL, goodAlertFiles } from './data.ts';

/*
 * Seeded fuzzing: a PRNG per case, structure-aware mutators for Avro container files and bare records,
 * and the edge values that length fields get tampered with. Every case is drawn from its own stream
 * (seed, case index), so one failing case is repeated on its own from the two numbers the test prints.
 */

/** The seed of a fuzz run: ZADS_FUZZ_SEED when set (to repeat or explore), else the test's fixed seed. Printed. */
export function fuzzSeed(label: string, fixed: number): number {
  const env = process.env.ZADS_FUZZ_SEED;
  const seed = env !== undefined && env !== '' ? Number.parseInt(env, 10) >>> 0 : fixed >>> 0;
  process.stdout.write(`[fuzz] ${label}: seed ${seed} (repeat with ZADS_FUZZ_SEED=${seed})\n`);
  return seed;
}

/** mulberry32 (the simulator's PRNG) with the draws a fuzzer needs. */
export class FuzzRandom extends Rng {
  /** Integer in [lo, hi] (inclusive). */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }

  /** A length skewed towards small values (most bugs live at the edges), up to `max`. */
  length(max: number): number {
    const r = this.float();
    if (r < 0.3) return this.between(0, Math.min(max, 8));
    if (r < 0.7) return this.between(0, Math.min(max, 256));
    return this.between(0, max);
  }
}

/** The random stream of one case. */
export function caseRandom(seed: number, index: number): FuzzRandom {
  return new FuzzRandom(hashInts(seed, index));
}

// ---------------------------------------------------------------------------------------------------
// Avro longs

/** Zigzag varint of a 64-bit value (wrapped to 64 bits), as Avro writes int and long. */
export function encodeLong(value: bigint): Buffer {
  let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z !== 0n) b |= 0x80;
    out.push(b);
  } while (z !== 0n);
  return Buffer.from(out);
}

/** Reads one zigzag varint; `end` is where it stops. Throws past the end of the bytes. */
export function readLong(bytes: Buffer, pos: number): { value: bigint; end: number } {
  let z = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= bytes.length) throw new RangeError('varint runs past the end');
    const b = bytes[pos++]!;
    z |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) break;
  }
  return { value: (z >> 1n) ^ -(z & 1n), end: pos };
}

/** The values a tampered length, count or union index gets: signs, int/long/double limits, off-by-ones. */
export function edgeLongs(actual: bigint): bigint[] {
  return [
    0n, 1n, -1n, 2n, -2n, 127n, 128n, 255n, 65_535n, 65_536n,
    2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 32n - 1n,
    2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n),
    2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n,
    actual + 1n, actual - 1n, -actual, actual * 2n, actual + 1_000_000n,
  ];
}

/** A varint for `value`, sometimes in a form a strict reader must refuse or read carefully. */
export function tamperedVarint(rnd: FuzzRandom, value: bigint): { bytes: Buffer; form: string } {
  const plain = encodeLong(value);
  switch (rnd.int(6)) {
    case 0: {
      // Over-long: padded with continuation bytes that add nothing (same value, more bytes).
      const pad = rnd.between(1, 6);
      const last = plain[plain.length - 1]!;
      const padded = Buffer.concat([plain.subarray(0, -1), Buffer.from([last | 0x80]), Buffer.alloc(pad - 1, 0x80), Buffer.from([0x00])]);
      return { bytes: padded, form: `overlong+${pad}` };
    }
    case 1:
      // More than 64 bits of payload.
      return { bytes: Buffer.concat([Buffer.alloc(rnd.between(10, 14), 0xff), Buffer.from([0x01])]), form: 'over-64-bit' };
    case 2:
      // Never terminated within the value (the next bytes of the data continue it).
      return { bytes: Buffer.alloc(rnd.between(1, 12), 0x80 | rnd.int(128)), form: 'unterminated' };
    default:
      return { bytes: plain, form: 'plain' };
  }
}

// ---------------------------------------------------------------------------------------------------
// Container files, taken apart and put back together

export interface ContainerParts {
  /** Header metadata entries, in file order (duplicates allowed when tampered). */
  meta: [string, Buffer][];
  sync: Buffer;
  blocks: { count: bigint; data: Buffer; sync: Buffer }[];
  /** Bytes after the last whole block. */
  trailing: Buffer;
}

/** Takes a well-formed container apart (the file's bytes after its last readable block go to `trailing`). */
export function parseContainer(bytes: Buffer): ContainerParts {
  if (!bytes.subarray(0, 4).equals(Buffer.from('Obj\x01', 'latin1'))) throw new Error('not a container');
  let pos = 4;
  const meta: [string, Buffer][] = [];
  for (;;) {
    const n = readLong(bytes, pos);
    pos = n.end;
    if (n.value === 0n) break;
    let count = n.value;
    if (count < 0n) {
      count = -count;
      pos = readLong(bytes, pos).end;
    }
    for (let i = 0n; i < count; i++) {
      const k = readLong(bytes, pos);
      const key = bytes.subarray(k.end, k.end + Number(k.value)).toString('utf8');
      pos = k.end + Number(k.value);
      const v = readLong(bytes, pos);
      meta.push([key, Buffer.from(bytes.subarray(v.end, v.end + Number(v.value)))]);
      pos = v.end + Number(v.value);
    }
  }
  const sync = Buffer.from(bytes.subarray(pos, pos + 16));
  pos += 16;
  const blocks: ContainerParts['blocks'] = [];
  while (pos < bytes.length) {
    try {
      const c = readLong(bytes, pos);
      const s = readLong(bytes, c.end);
      const end = s.end + Number(s.value);
      const blockSync = bytes.subarray(end, end + 16);
      if (s.value < 0n || end + 16 > bytes.length || !blockSync.equals(sync)) break;
      blocks.push({ count: c.value, data: Buffer.from(bytes.subarray(s.end, end)), sync: Buffer.from(blockSync) });
      pos = end + 16;
    } catch {
      break;
    }
  }
  return { meta, sync, blocks, trailing: Buffer.from(bytes.subarray(pos)) };
}

/** Writes parts back as bytes; `sizeOf` may announce another size than a block's data has. */
export function buildContainer(parts: ContainerParts, sizeOf: (i: number, actual: number) => Buffer = (_i, n) => encodeLong(BigInt(n))): Buffer {
  const out: Buffer[] = [Buffer.from('Obj\x01', 'latin1')];
  if (parts.meta.length > 0) {
    out.push(encodeLong(BigInt(parts.meta.length)));
    for (const [k, v] of parts.meta) {
      const key = Buffer.from(k, 'utf8');
      out.push(encodeLong(BigInt(key.length)), key, encodeLong(BigInt(v.length)), v);
    }
  }
  out.push(encodeLong(0n), parts.sync);
  parts.blocks.forEach((b, i) => out.push(encodeLong(b.count), sizeOf(i, b.data.length), b.data, b.sync));
  out.push(parts.trailing);
  return Buffer.concat(out);
}

export function cloneParts(p: ContainerParts): ContainerParts {
  return {
    meta: p.meta.map(([k, v]) => [k, Buffer.from(v)]),
    sync: Buffer.from(p.sync),
    blocks: p.blocks.map((b) => ({ count: b.count, data: Buffer.from(b.data), sync: Buffer.from(b.sync) })),
    trailing: Buffer.from(p.trailing),
  };
}

/** The same container with its blocks deflated (codec "deflate"). */
export function deflated(p: ContainerParts): ContainerParts {
  const q = cloneParts(p);
  q.meta = q.meta.filter(([k]) => k !== 'avro.codec');
  q.meta.push(['avro.codec', Buffer.from('deflate')]);
  for (const b of q.blocks) b.data = deflateRawSync(b.data);
  return q;
}

// ---------------------------------------------------------------------------------------------------
// Where the varints of a record are: a reader of Avro binary that notes every int, long, length, count
// and union index it passes, so a mutator can tamper with exactly those.

export type VarintKind = 'int' | 'long' | 'length' | 'count' | 'union';

export interface VarintAt {
  pos: number;
  end: number;
  value: bigint;
  kind: VarintKind;
  path: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

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

/** Replaces bytes [from, to) of `bytes` with `replacement`. */
export function splice(bytes: Buffer, from: number, to: number, replacement: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, from), replacement, bytes.subarray(to)]);
}

// ---------------------------------------------------------------------------------------------------
// Byte-level mutations

/** One blind mutation of the bytes, named for the report. */
export function mutateBytes(rnd: FuzzRandom, input: Buffer): { bytes: Buffer; label: string } {
  const n = input.length;
  const at = () => rnd.int(Math.max(1, n));
  switch (rnd.int(9)) {
    case 0: {
      const copy = Buffer.from(input);
      const flips = rnd.between(1, 8);
      for (let i = 0; i < flips && n > 0; i++) copy[at()]! ^= 1 << rnd.int(8);
      return { bytes: copy, label: `${flips} bit flip(s)` };
    }
    case 1: {
      const copy = Buffer.from(input);
      const k = rnd.between(1, 16);
      for (let i = 0; i < k && n > 0; i++) copy[at()] = rnd.int(256);
      return { bytes: copy, label: `${k} random byte(s)` };
    }
    case 2: {
      const copy = Buffer.from(input);
      const from = at();
      const len = rnd.length(4096);
      const fill = rnd.pick([0x00, 0xff, 0x80, 0x7f, -1]);
      const run = fill < 0 ? rnd.bytes(len) : Buffer.alloc(len, fill);
      run.copy(copy, from, 0, Math.min(len, n - from));
      return { bytes: copy, label: `byte run of ${len} x ${fill < 0 ? 'random' : fill} at ${from}` };
    }
    case 3: {
      const cut = rnd.chance(0.2) ? n - rnd.between(1, 32) : at();
      return { bytes: input.subarray(0, Math.max(0, cut)), label: `truncated at ${cut}` };
    }
    case 4: {
      const from = at();
      const len = rnd.length(8192);
      const to = at();
      return { bytes: splice(input, to, to, input.subarray(from, from + len)), label: `range ${from}+${len} duplicated at ${to}` };
    }
    case 5: {
      const from = at();
      const len = rnd.length(8192);
      return { bytes: splice(input, from, from + len, Buffer.alloc(0)), label: `range ${from}+${len} removed` };
    }
    case 6: {
      const to = at();
      const len = rnd.length(512);
      return { bytes: splice(input, to, to, rnd.bytes(len)), label: `${len} random bytes inserted at ${to}` };
    }
    case 7: {
      const len = rnd.length(4096);
      return { bytes: Buffer.concat([input, rnd.chance(0.5) ? rnd.bytes(len) : input.subarray(0, len)]), label: `${len} bytes appended` };
    }
    default: {
      // Varint-shaped noise: an edge value written over (or into) a random position.
      const to = at();
      const v = tamperedVarint(rnd, rnd.pick(edgeLongs(BigInt(rnd.int(100_000)))));
      const overwrite = rnd.chance(0.5);
      return { bytes: splice(input, to, overwrite ? to + v.bytes.length : to, v.bytes), label: `${v.form} edge varint ${overwrite ? 'over' : 'into'} byte ${to}` };
    }
  }
}

/** Random text of a given flavour: unicode, control characters, SQL/HTML/path noise, very long. */
export function randomText(rnd: FuzzRandom, maxLength = 64): string {
  const pools = [
    () => String.fromCharCode(rnd.between(0x20, 0x7e)),
    () => String.fromCodePoint(rnd.pick([0x00, 0x0a, 0x0d, 0x09, 0x7f, 0x85, 0xa0, 0x2028, 0xfeff, 0xfffd, 0x1f600, 0x10ffff, 0x0301])),
    () => String.fromCodePoint(rnd.between(0xa0, 0xd7ff)),
    () => rnd.pick(["'", '"', '\\', '/', '..', '%', '%00', '%ff', '<', '>', '&', ';', '--', '*', '?', '#', '{', '}', '[', ']', '$', '\u0000']),
    () => rnd.pick(['0', '-1', '-0', '0.5', '1e309', '1e-320', 'NaN', 'Infinity', '9007199254740993', '9223372036854775808', '-9223372036854775809', '0x10', '1_000']),
  ];
  const len = rnd.length(maxLength);
  let s = '';
  for (let i = 0; i < len; i++) s += rnd.pick(pools)();
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Where the framing varints of a container are: header map counts and key/value lengths, block counts
// and sizes.

export function containerVarints(bytes: Buffer): VarintAt[] {
  const out: VarintAt[] = [];
  let pos = 4;
  const long = (kind: VarintKind, path: string): bigint => {
    const r = readLong(bytes, pos);
    out.push({ pos, end: r.end, value: r.value, kind, path });
    pos = r.end;
    return r.value;
  };
  const skip = (n: bigint): void => {
    pos += Number(n);
  };
  try {
    for (;;) {
      let n = long('count', 'meta');
      if (n === 0n) break;
      if (n < 0n) {
        n = -n;
        long('length', 'meta block size');
      }
      for (let i = 0n; i < n && pos < bytes.length; i++) {
        skip(long('length', 'meta key'));
        skip(long('length', 'meta value'));
      }
    }
    pos += 16;
    while (pos < bytes.length) {
      long('count', 'block count');
      const size = long('length', 'block size');
      if (size < 0n) break;
      skip(size + 16n);
    }
  } catch {
    // The last framing varint read is where the data ran out: enough to tamper with.
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Codec inputs: real alerts, mutated every way above

/** A real message to mutate: its bytes, its parts, its writer schema, and the bare record of its alert. */
export interface Seed {
  name: string;
  bytes: Buffer;
  parts: ContainerParts;
  /** The embedded writer schema text. */
  schemaText: string;
  /** Its first alert as a bare Avro record (what the Confluent wire format carries), when it has one. */
  bare?: Buffer;
}

export function seedOf(name: string, bytes: Buffer, bare?: Buffer): Seed {
  const parts = parseContainer(bytes);
  const schema = parts.meta.find(([k]) => k === 'avro.schema')?.[1];
  if (!schema) throw new Error(`${name} has no avro.schema`);
  return { name, bytes, parts, schemaText: schema.toString('utf8'), bare };
}

/**
 * The real messages fuzz cases start from: every single-alert file of the shared data (the v4.02 one
 * with its trailing garbage, the broken one), and the first `fromTarball` members of the sample night.
 */
export async function realSeeds(fromTarball = 5): Promise<Seed[]> {
  const bare = (bytes: Buffer): Buffer | undefined => {
    try {
      const first = iterateContainer(bytes).next().value as DecodedAlert | undefined;
      return first?.schema.type.toBuffer(first.alert);
    } catch {
      return undefined;
    }
  };
  const seeds = goodAlertFiles().map((f) => {
    const bytes = readFileSync(f.path);
    return seedOf(f.path.split('/').pop()!, bytes, bare(bytes));
  });
  seeds.push(seedOf(BROKEN_FILE.split('/').pop()!, readFileSync(BROKEN_FILE)));
  for await (const m of iterateTarball(SAMPLE_TARBALL)) {
    if (seeds.length >= goodAlertFiles().length + 1 + fromTarball) break;
    seeds.push(seedOf(`sample/${m.name}`, m.bytes, bare(m.bytes)));
  }
  return seeds;
}

/** A schema lookup for the Confluent cases; `text` says what it answers for the ids it knows. */
export type LookupAnswer = { id: number; text: unknown } | undefined;

export interface CodecCase {
  label: string;
  bytes: Buffer;
  /** For Confluent wire-format values: what the schema lookup answers, by id. */
  lookup?: { known: Map<number, unknown> };
}

const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];

/** One structural change to a parsed schema (JSON), in place where it can be; returns the new schema. */
function mutateSchemaJson(rnd: FuzzRandom, schema: Json): { schema: Json; what: string } {
  // Collect every object and array node with a way to replace it.
  const nodes: { value: Json; set: (v: Json) => void; path: string }[] = [];
  const visit = (v: Json, set: (v: Json) => void, path: string): void => {
    nodes.push({ value: v, set, path });
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, (n) => (v[i] = n), `${path}[${i}]`));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) visit(v[k]!, (n) => (v[k] = n), `${path}.${k}`);
  };
  let root = schema;
  visit(root, (n) => (root = n), '');
  const node = rnd.pick(nodes);
  const v = node.value;
  switch (rnd.int(9)) {
    case 0:
      node.set(rnd.pick(PRIMITIVES));
      return { schema: root, what: `${node.path} → primitive` };
    case 1:
      if (Array.isArray(v) && v.length > 1) {
        v.reverse();
        return { schema: root, what: `${node.path} union reversed` };
      }
      node.set([v, 'null']);
      return { schema: root, what: `${node.path} wrapped in a union` };
    case 2: {
      const fieldsNode = nodes.filter((n) => n.path.endsWith('.fields'));
      const f = fieldsNode.length > 0 ? (rnd.pick(fieldsNode).value as Json[]) : [];
      if (f.length > 0) {
        const i = rnd.int(f.length);
        f.splice(i, 1);
        return { schema: root, what: `field ${i} removed` };
      }
      return { schema: root, what: 'no change' };
    }
    case 3: {
      const fieldsNode = nodes.filter((n) => n.path.endsWith('.fields'));
      const f = fieldsNode.length > 0 ? (rnd.pick(fieldsNode).value as Json[]) : [];
      f.splice(rnd.int(f.length + 1), 0, { name: `fuzz${rnd.int(1000)}`, type: rnd.pick<Json>([...PRIMITIVES, { type: 'array', items: 'null' }, { type: 'map', values: 'null' }]) });
      return { schema: root, what: 'field added' };
    }
    case 4:
      node.set({ type: 'array', items: rnd.pick(['null', v]) });
      return { schema: root, what: `${node.path} → array` };
    case 5:
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.name === 'string') {
        v.name = rnd.pick(['', '1bad', 'a.b.', v.name + '_x', 'ztf.alert', 'null']);
        return { schema: root, what: `${node.path} renamed` };
      }
      node.set(null);
      return { schema: root, what: `${node.path} → null` };
    case 6:
      node.set({ type: 'fixed', name: `F${rnd.int(1000)}`, size: rnd.pick([0, 1, 8, 16, 2 ** 31, -1, 1e9]) });
      return { schema: root, what: `${node.path} → fixed` };
    case 7:
      node.set({ type: 'enum', name: `E${rnd.int(1000)}`, symbols: rnd.pick([[], ['A'], ['A', 'A'], ['A', 'B', 'C']]) });
      return { schema: root, what: `${node.path} → enum` };
    default:
      // A reference to a named type, possibly itself (recursion) or one that does not exist.
      node.set(rnd.pick(['ztf.alert', 'ztf.alert.candidate', 'ztf.alert.cutout', 'alert', 'candidate', 'nosuch.Type']));
      return { schema: root, what: `${node.path} → named reference` };
  }
}

/** Fields the archive files an alert under: a schema that renames or retypes one still decodes the same bytes. */
const KEY_FIELDS = ['objectId', 'candid', 'candidate', 'jd', 'ra', 'dec', 'fid', 'programid', 'magpsf'];

/** Same bytes on the wire, another meaning: a key field renamed, or given a type with the same encoding. */
function retypeField(rnd: FuzzRandom, schema: Json): { schema: Json; what: string } {
  const fields: { [k: string]: Json }[] = [];
  const visit = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      if (typeof v.name === 'string' && KEY_FIELDS.includes(v.name) && 'type' in v && !['record'].includes(v.type as string)) fields.push(v);
      Object.values(v).forEach(visit);
    }
  };
  visit(schema);
  if (fields.length === 0) return { schema, what: 'no key field' };
  const f = rnd.pick(fields);
  const same: Record<string, Json[]> = {
    string: ['bytes'],
    bytes: ['string'],
    int: ['long', { type: 'enum', name: 'E', symbols: ['A', 'B', 'C'] }],
    long: ['int'],
    double: [{ type: 'fixed', name: 'D8', size: 8 }, 'long'],
    float: [{ type: 'fixed', name: 'F4', size: 4 }],
  };
  const from = typeof f.type === 'string' ? f.type : '';
  if (rnd.chance(0.4) || !(from in same)) {
    const old = f.name as string;
    f.name = `${old}${rnd.pick(['_', 'X', '2'])}`;
    return { schema, what: `field ${old} renamed` };
  }
  f.type = rnd.pick(same[from]!);
  return { schema, what: `field ${f.name as string} ${from} → ${JSON.stringify(f.type)}` };
}

function withMeta(parts: ContainerParts, key: string, value: Buffer | undefined): ContainerParts {
  const q = cloneParts(parts);
  q.meta = q.meta.filter(([k]) => k !== key);
  if (value !== undefined) q.meta.push([key, value]);
  return q;
}

/** The schema-text mutations: structural (still JSON) or textual (often not). */
function schemaCase(rnd: FuzzRandom, seed: Seed): CodecCase {
  let text: string;
  let what: string;
  const r = rnd.int(10);
  if (r < 2) {
    const m = retypeField(rnd, JSON.parse(seed.schemaText) as Json);
    text = JSON.stringify(m.schema);
    what = m.what;
  } else if (r < 6) {
    const m = mutateSchemaJson(rnd, JSON.parse(seed.schemaText) as Json);
    const times = rnd.chance(0.3) ? 2 : 1;
    let s = m.schema;
    what = m.what;
    if (times === 2) {
      const again = mutateSchemaJson(rnd, s);
      s = again.schema;
      what += `, ${again.what}`;
    }
    text = JSON.stringify(s);
  } else if (r < 8) {
    const t = mutateBytes(rnd, Buffer.from(seed.schemaText));
    text = t.bytes.toString('utf8');
    what = `text: ${t.label}`;
  } else {
    const depth = rnd.pick([10, 1000, 100_000]);
    text = rnd.pick([
      '',
      'null',
      '42',
      '[]',
      '{}',
      '"string"',
      '"ztf.alert"',
      '{"type":"record","name":"r","fields":[]}',
      '{"type":"record","name":"r","fields":[{"name":"objectId","type":"string"},{"name":"candid","type":"long"},{"name":"candidate","type":"r"}]}',
      '{"type":"record","name":"r","fields":[{"name":"objectId","type":"string"},{"name":"candid","type":"long"},{"name":"candidate","type":{"type":"map","values":"null"}}]}',
      '['.repeat(depth) + ']'.repeat(depth),
      '{"type":'.repeat(depth) + '"null"' + '}'.repeat(depth),
    ]);
    what = `text replaced (${text.length} chars)`;
  }
  const parts = withMeta(seed.parts, 'avro.schema', Buffer.from(text, 'utf8'));
  return { label: `${seed.name}: schema ${what}`, bytes: buildContainer(parts) };
}

/** Length fields tampered with: header, block framing, or inside the record with the block size kept consistent. */
function varintCase(rnd: FuzzRandom, seed: Seed): CodecCase {
  if (rnd.chance(0.35) || seed.parts.blocks.length === 0) {
    const varints = containerVarints(seed.bytes);
    const v = rnd.pick(varints);
    const t = tamperedVarint(rnd, rnd.pick(edgeLongs(v.value)));
    return { label: `${seed.name}: ${v.path} varint at ${v.pos} (${v.value}) → ${t.form} ${readValue(t.bytes)}`, bytes: splice(seed.bytes, v.pos, v.end, t.bytes) };
  }
  const parts = cloneParts(seed.parts);
  const block = parts.blocks[0]!;
  const varints = recordVarints(seed.schemaText, block.data);
  const wanted: VarintKind = rnd.pick(['length', 'count', 'union', 'length', 'count', 'long', 'int']);
  const pool = varints.filter((v) => v.kind === wanted);
  const v = rnd.pick(pool.length > 0 ? pool : varints);
  const t = tamperedVarint(rnd, rnd.pick(edgeLongs(v.value)));
  // Sometimes the record ends right there: what follows a bad count is then reads past the end.
  const cut = rnd.chance(0.2);
  block.data = cut ? Buffer.concat([block.data.subarray(0, v.pos), t.bytes]) : splice(block.data, v.pos, v.end, t.bytes);
  return { label: `${seed.name}: record ${v.kind} ${v.path} at ${v.pos} (${v.value}) → ${t.form} ${readValue(t.bytes)}${cut ? ', record cut after it' : ''}`, bytes: buildContainer(parts) };
}

/** The varints of a record, or of as much of it as reads (the broken file's record does not, whole). */
function recordVarints(schemaText: string, data: Buffer): VarintAt[] {
  try {
    return locateVarints(JSON.parse(schemaText) as Json, data).varints;
  } catch {
    return [{ pos: 0, end: readLong(data, 0).end, value: readLong(data, 0).value, kind: 'length', path: '(first varint)' }];
  }
}

function readValue(b: Buffer): string {
  try {
    return String(readLong(b, 0).value);
  } catch {
    return '(unterminated)';
  }
}

/** Block framing and header variants: counts, syncs, codecs, extra and missing blocks. */
function framingCase(rnd: FuzzRandom, seed: Seed): CodecCase {
  const p = cloneParts(seed.parts);
  const b0 = p.blocks[0];
  const name = seed.name;
  switch (rnd.int(14)) {
    case 0:
      p.blocks = [];
      return { label: `${name}: no blocks`, bytes: buildContainer(p) };
    case 1:
      if (b0) p.blocks.push({ ...b0 });
      return { label: `${name}: block repeated`, bytes: buildContainer(p) };
    case 2:
      p.blocks.unshift({ count: 0n, data: Buffer.alloc(0), sync: p.sync });
      return { label: `${name}: empty block first`, bytes: buildContainer(p) };
    case 3:
      if (b0) b0.count = rnd.pick([0n, 2n, 3n, -1n, 2n ** 31n, 2n ** 62n]);
      return { label: `${name}: block count ${b0?.count}`, bytes: buildContainer(p) };
    case 4:
      if (b0) b0.data = Buffer.concat([b0.data, b0.data]);
      if (b0) b0.count = rnd.pick([1n, 2n]);
      return { label: `${name}: record twice in one block, count ${b0?.count}`, bytes: buildContainer(p) };
    case 5:
      p.sync = rnd.bytes(16);
      return { label: `${name}: header sync changed`, bytes: buildContainer(p) };
    case 6:
      if (b0) b0.sync = rnd.chance(0.5) ? rnd.bytes(16) : b0.sync.subarray(0, rnd.int(16));
      return { label: `${name}: block sync damaged`, bytes: buildContainer(p) };
    case 7: {
      const codec = rnd.pick(['deflate', 'snappy', 'zstandard', 'bzip2', 'xz', '', 'null\u0000', 'NULL', 'deflate ']);
      return { label: `${name}: codec "${codec}" on null data`, bytes: buildContainer(withMeta(p, 'avro.codec', Buffer.from(codec))) };
    }
    case 8: {
      const d = deflated(p);
      if (rnd.chance(0.7) && d.blocks[0]) {
        const m = mutateBytes(rnd, d.blocks[0].data);
        d.blocks[0].data = m.bytes;
        return { label: `${name}: deflate, compressed data ${m.label}`, bytes: buildContainer(d) };
      }
      return { label: `${name}: deflate`, bytes: buildContainer(d) };
    }
    case 9:
      p.meta = p.meta.filter(([k]) => k !== 'avro.schema');
      return { label: `${name}: no avro.schema`, bytes: buildContainer(p) };
    case 10:
      p.meta.push([randomText(rnd, 32), rnd.bytes(rnd.length(1024))], ['avro.schema', Buffer.from('"null"')]);
      return { label: `${name}: extra metadata and a second avro.schema`, bytes: buildContainer(p) };
    case 11:
      p.trailing = Buffer.concat([p.trailing, rnd.chance(0.5) ? encodeLong(0n) : rnd.bytes(rnd.between(1, 40))]);
      return { label: `${name}: bytes after the last block`, bytes: buildContainer(p) };
    case 12: {
      // Announced block size differs from the data by an edge amount.
      const t = tamperedVarint(rnd, rnd.pick(edgeLongs(BigInt(b0?.data.length ?? 0))));
      return { label: `${name}: block size → ${t.form} ${readValue(t.bytes)}`, bytes: buildContainer(p, () => t.bytes) };
    }
    default: {
      // The metadata map written as one block with a negative count and a byte size (legal Avro).
      const meta = Buffer.concat(p.meta.map(([k, v]) => Buffer.concat([encodeLong(BigInt(Buffer.byteLength(k))), Buffer.from(k), encodeLong(BigInt(v.length)), v])));
      const size = rnd.chance(0.5) ? BigInt(meta.length) : rnd.pick(edgeLongs(BigInt(meta.length)));
      const head = Buffer.concat([Buffer.from('Obj\x01', 'latin1'), encodeLong(-BigInt(p.meta.length)), encodeLong(size), meta, encodeLong(0n), p.sync]);
      const rest = buildContainer({ ...p, meta: [] }).subarray(4 + 1 + 16);
      return { label: `${name}: metadata as a negative-count block, size ${size}`, bytes: Buffer.concat([head, rest]) };
    }
  }
}

/** Confluent wire format: a bare record (often damaged) behind the 5-byte header, with a lookup that may not help. */
function confluentCase(rnd: FuzzRandom, seed: Seed, others: readonly Seed[]): CodecCase {
  let record = seed.bare ?? rnd.bytes(rnd.length(2000));
  let what = 'intact';
  const r = rnd.int(10);
  if (r < 4 && seed.bare) {
    const varints = recordVarints(seed.schemaText, seed.bare);
    const v = rnd.pick(varints.filter((x) => x.kind !== 'int'));
    const t = tamperedVarint(rnd, rnd.pick(edgeLongs(v.value)));
    record = splice(seed.bare, v.pos, v.end, t.bytes);
    what = `${v.kind} ${v.path} (${v.value}) → ${t.form} ${readValue(t.bytes)}`;
  } else if (r < 8) {
    const m = mutateBytes(rnd, record);
    record = m.bytes;
    what = m.label;
  }
  const id = rnd.pick([0, 1, 7, 0x7fffffff, 0xffffffff]);
  const known = new Map<number, unknown>();
  const answer = rnd.int(8);
  let answered = 'the writer schema';
  if (answer < 4) known.set(id, seed.schemaText);
  else if (answer === 4) known.set(id, JSON.parse(seed.schemaText));
  else if (answer === 5) {
    const other = rnd.pick(others);
    known.set(id, other.schemaText);
    answered = `the schema of ${other.name}`;
  } else if (answer === 6) {
    const bad = rnd.pick(['not json', '"string"', '{"type":"record","name":"r","fields":[]}', 42, null, {}, []]);
    known.set(id, bad);
    answered = JSON.stringify(bad);
  } else answered = 'nothing (unknown id)';
  const head = Buffer.alloc(5);
  head.writeUInt32BE(id, 1);
  let bytes = Buffer.concat([head, record]);
  if (rnd.chance(0.1)) {
    bytes = bytes.subarray(0, rnd.int(6));
    what += `, message cut to ${bytes.length} bytes`;
  }
  return { label: `${seed.name}: Confluent id ${id}, record ${what}, lookup answers ${answered}`, bytes, lookup: { known } };
}

/** Random bytes, sometimes wearing the magic of a container, a Confluent frame or gzip. */
function randomCase(rnd: FuzzRandom): CodecCase {
  const prefix = rnd.pick([Buffer.alloc(0), Buffer.from('Obj\x01', 'latin1'), Buffer.from([0, 0, 0, 0, 1]), Buffer.from([0x1f, 0x8b]), Buffer.from('Obj', 'latin1')]);
  const len = rnd.chance(0.1) ? rnd.between(0, 6) : rnd.length(70_000);
  const bytes = Buffer.concat([prefix, rnd.bytes(len)]);
  return { label: `random ${bytes.length} bytes (prefix ${prefix.toString('hex') || 'none'})`, bytes, lookup: prefix[0] === 0 ? { known: new Map([[1, '"string"']]) } : undefined };
}

/** Case `index` of a codec fuzz run over these seeds: every kind of damage in fixed proportions. */
export function codecCase(rnd: FuzzRandom, seeds: readonly Seed[]): CodecCase {
  const seed = rnd.pick(seeds);
  const r = rnd.float();
  if (r < 0.06) return randomCase(rnd);
  if (r < 0.36) {
    let bytes = seed.bytes;
    const labels: string[] = [];
    const times = rnd.chance(0.25) ? rnd.between(2, 4) : 1;
    for (let i = 0; i < times; i++) {
      const m = mutateBytes(rnd, bytes);
      bytes = m.bytes;
      labels.push(m.label);
    }
    return { label: `${seed.name}: ${labels.join(', ')}`, bytes };
  }
  if (r < 0.58) return varintCase(rnd, seed);
  if (r < 0.7) return schemaCase(rnd, seed);
  if (r < 0.86) return framingCase(rnd, seed);
  return confluentCase(rnd, seed, seeds);
}

// ---------------------------------------------------------------------------------------------------
// What a decode came to, and a decoder in a worker thread that a watchdog can end

/** Why a decoded record is no usable alert (empty: it is one): what the catalogue files it under. */
export function alertProblems(alert: ZtfAlert): string[] {
  const problems: string[] = [];
  if (typeof alert.objectId !== 'string' || alert.objectId.length === 0) problems.push(`objectId is ${typeof alert.objectId}`);
  if (typeof alert.candid !== 'bigint') problems.push(`candid is ${typeof alert.candid}`);
  const c = alert.candidate as Record<string, unknown> | null;
  if (c === null || typeof c !== 'object') return [...problems, 'candidate is not a record'];
  for (const k of ['jd', 'ra', 'dec', 'fid']) {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k])) problems.push(`candidate.${k} is ${String(c[k])}`);
  }
  if (!Number.isInteger(c.fid)) problems.push('candidate.fid is not an integer');
  return problems;
}

/** A decode's result as facts that cross a thread: the alerts' problems, or the error as thrown. */
export type Outcome =
  | { kind: 'alerts'; count: number; candids: string[]; problems: string[] }
  | { kind: 'error'; zads: boolean; name: string; code: string | undefined; message: string; bytePosition: number | undefined; stack: string | undefined };

/** What the decoder thread says when the worker could not answer. */
export type Lost = { kind: 'hung'; message: string } | { kind: 'crashed'; message: string };

export function outcomeOfError(err: unknown): Outcome {
  const e = err as Partial<ZadsError> & { name?: string };
  return {
    kind: 'error',
    zads: err instanceof ZadsError,
    name: String(e?.name ?? typeof err),
    code: err instanceof ZadsError ? err.code : undefined,
    message: String(e?.message ?? err),
    bytePosition: err instanceof ZadsError ? err.context.bytePosition : undefined,
    stack: err instanceof ZadsError ? undefined : e?.stack,
  };
}

/** Decodes one message value as the archive does; the outcome never throws. */
export async function decodeOutcome(bytes: Buffer, lookup?: [number, unknown][]): Promise<Outcome> {
  const known = lookup ? new Map(lookup) : undefined;
  try {
    const alerts = await decodePayload(bytes, { schemaLookup: known ? (id) => known.get(id) : undefined });
    return {
      kind: 'alerts',
      count: alerts.length,
      candids: alerts.map((a) => String(a.alert.candid)),
      problems: alerts.flatMap((a, i) => alertProblems(a.alert).map((p) => `alert ${i}: ${p}`)),
    };
  } catch (err) {
    return outcomeOfError(err);
  }
}

/** Problems of an outcome under the codec's contract: a usable alert, or a ZadsError with a code and a reason. */
export function contractViolations(o: Outcome, inputLength: number): string[] {
  if (o.kind === 'alerts') {
    if (o.count === 0) return ['decoded to no alert and no error'];
    return o.problems;
  }
  const out: string[] = [];
  if (!o.zads) return [`threw ${o.name} (not a ZadsError): ${o.message}\n${o.stack ?? ''}`];
  if (!o.code || !(o.code in ERROR_CODES)) out.push(`code ${o.code} is not in the closed list`);
  if (o.code === 'INTERNAL') out.push(`INTERNAL: ${o.message}`);
  if (o.message.trim().length === 0) out.push('no reason given');
  if (o.bytePosition !== undefined && !(o.bytePosition >= 0 && o.bytePosition <= inputLength)) {
    out.push(`bytePosition ${o.bytePosition} is outside the ${inputLength} bytes`);
  }
  return out;
}

interface DecodeRequest {
  id: number;
  bytes: Uint8Array;
  lookup?: [number, unknown][];
}

/** Set in the environment of the decoder process (and nowhere else) to make this module serve decodes. */
const DECODER_ROLE_ENV = 'ZADS_FUZZ_DECODER';

/**
 * Decodes in a child process, so that a decode stuck in a synchronous loop, one that runs the heap out,
 * or one that kills V8 outright (an array grown past its limit aborts the whole process, worker threads
 * included) is caught and named instead of hanging or killing the test run. Requests are pipelined; a
 * reply not arriving within `hangMs` of the previous one means the oldest request hung.
 */
export class DecoderProcess {
  readonly #hangMs: number;
  #child!: ChildProcess;
  #next = 0;
  readonly #pending = new Map<number, { request: DecodeRequest; resolve: (o: Outcome | Lost) => void }>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Processes started (one, plus one after each hang or crash). */
  starts = 0;

  constructor(options: { hangMs: number }) {
    this.#hangMs = options.hangMs;
    this.#start();
  }

  #start(): void {
    this.starts++;
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=1024'],
      env: { ...process.env, [DECODER_ROLE_ENV]: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (msg: { id: number; outcome: Outcome }) => {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      this.#arm();
      p?.resolve(msg.outcome);
    });
    child.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      if (child === this.#child && !this.#closed) this.#failOldest('crashed', `decoder process exited (code ${code}, signal ${signal})`);
    });
    this.#child = child;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = this.#pending.size > 0 ? setTimeout(() => this.#failOldest('hung', `no answer within ${this.#hangMs} ms`), this.#hangMs) : undefined;
  }

  /** The oldest request is the one the process was on: it gets the verdict, the rest go again to a new one. */
  #failOldest(kind: 'hung' | 'crashed', message: string): void {
    clearTimeout(this.#timer);
    const old = this.#child;
    const [first, ...rest] = [...this.#pending.values()];
    this.#pending.delete(first?.request.id ?? -1);
    this.#start();
    old.kill('SIGKILL');
    first?.resolve({ kind, message });
    for (const p of rest) this.#child.send(p.request);
    this.#arm();
  }

  decode(bytes: Buffer, lookup?: [number, unknown][]): Promise<Outcome | Lost> {
    const id = this.#next++;
    const request: DecodeRequest = { id, bytes, lookup };
    return new Promise((resolve) => {
      this.#pending.set(id, { request, resolve });
      if (this.#pending.size === 1) this.#arm();
      this.#child.send(request);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  }
}

/** The decoder process: decode what arrives, in order, and say what came of it. */
function serveDecoder(): void {
  let queue = Promise.resolve();
  process.on('message', (req: DecodeRequest) => {
    queue = queue.then(async () => {
      const bytes = Buffer.from(req.bytes.buffer, req.bytes.byteOffset, req.bytes.byteLength);
      process.send!({ id: req.id, outcome: await decodeOutcome(bytes, req.lookup) });
    });
  });
  // Ends with its parent: the IPC channel closing means the test run is over (or was killed).
  process.on('disconnect', () => process.exit(0));
}

if (process.env[DECODER_ROLE_ENV] === '1' && process.send !== undefined) serveDecoder();
