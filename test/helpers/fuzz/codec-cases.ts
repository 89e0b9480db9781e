import { buildContainer, cloneParts, containerVarints, deflated } from './container.ts';
import type { ContainerParts } from './container.ts';
import { mutateBytes, splice } from './bytes.ts';
import { randomText } from './random.ts';
import type { FuzzRandom } from './random.ts';
import { locateVarints } from './record.ts';
import type { Json, VarintAt, VarintKind } from './record.ts';
import { mutateSchemaJson, retypeField } from './schema.ts';
import type { Seed } from './seeds.ts';
import { edgeLongs, encodeLong, readLong, tamperedVarint } from './varint.ts';

/* Codec inputs: real alerts, mutated every way the other modules of this folder can, in fixed proportions. */

/** A schema lookup for the Confluent cases; `text` says what it answers for the ids it knows. */
export type LookupAnswer = { id: number; text: unknown } | undefined;

export interface CodecCase {
  label: string;
  bytes: Buffer;
  /** For Confluent wire-format values: what the schema lookup answers, by id. */
  lookup?: { known: Map<number, unknown> };
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
