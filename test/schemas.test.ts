// Our single-file Avro schemas (schemas/<v>.avsc) against the published ZTF schemas, which are split over
// alert.avsc, candidate.avsc, prv_candidate.avsc, cutout.avsc (and fp_hist.avsc from 4.01) and refer to each
// other by full name. Structure (names, namespaces, versions, field names and order, types, union branch order,
// defaults) must be identical; the doc strings must be ours.
import { existsSync, readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import avro from 'avsc';
import type { Schema, types } from 'avsc';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type RecordSchema = JsonObject & { name: string; fields: JsonObject[] };

// test/ -> repo root; the shared data lives beside the repo (<repo>/../shared).
const REPO = new URL('../', import.meta.url);
const PUBLISHED = new URL('../../shared/data/ztf/schemas/', import.meta.url);
const PARTS = ['alert', 'candidate', 'prv_candidate', 'cutout', 'fp_hist'] as const;
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

const EXPECTED: Record<string, { parts: string[]; alert: number; candidate: number }> = {
  '4.02': { parts: [...PARTS], alert: 10, candidate: 103 },
  '3.3': { parts: ['alert', 'candidate', 'prv_candidate', 'cutout'], alert: 9, candidate: 103 },
};

function readJson(url: URL): Json {
  return JSON.parse(readFileSync(url, 'utf8')) as Json;
}

function isObject(x: Json | undefined): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isRecord(x: Json | undefined): x is RecordSchema {
  return isObject(x) && x.type === 'record';
}

function fullName(rec: JsonObject, enclosingNs: string): string {
  const name = rec.name as string;
  if (name.includes('.')) return name;
  const ns = typeof rec.namespace === 'string' ? rec.namespace : enclosingNs;
  return ns ? `${ns}.${name}` : name;
}

function loadOurs(version: string): JsonObject {
  const s = readJson(new URL(`schemas/${version}.avsc`, REPO));
  if (!isRecord(s)) throw new Error(`schemas/${version}.avsc is not a record schema`);
  return s;
}

/** Published split files joined into one tree: each named record inlined at its first use, by name afterwards. */
function loadPublished(version: string): { tree: JsonObject; files: string[] } {
  const dir = new URL(`${version}/`, PUBLISHED);
  const byName = new Map<string, RecordSchema>();
  const files: string[] = [];
  for (const part of PARTS) {
    const url = new URL(`${part}.avsc`, dir);
    if (!existsSync(url)) continue;
    const s = readJson(url);
    if (!isRecord(s)) throw new Error(`${url.pathname} is not a record schema`);
    byName.set(fullName(s, ''), s);
    files.push(part);
  }
  const root = byName.get('ztf.alert');
  if (!root) throw new Error(`no ztf.alert in ${dir.pathname}`);
  const defined = new Set<string>();

  const resolveType = (t: Json, ns: string): Json => {
    if (typeof t === 'string') {
      if (PRIMITIVES.has(t)) return t;
      const full = t.includes('.') ? t : `${ns}.${t}`;
      if (defined.has(full)) return t;
      const rec = byName.get(full);
      if (!rec) throw new Error(`unresolved type name ${t} in ${version}`);
      return resolveRecord(rec, ns);
    }
    if (Array.isArray(t)) return t.map((b) => resolveType(b, ns));
    if (isRecord(t)) return resolveRecord(t, ns);
    if (isObject(t) && t.type === 'array') return { ...t, items: resolveType(t.items as Json, ns) };
    if (isObject(t) && t.type === 'map') return { ...t, values: resolveType(t.values as Json, ns) };
    return t;
  };
  const resolveRecord = (rec: RecordSchema, enclosingNs: string): JsonObject => {
    const full = fullName(rec, enclosingNs);
    defined.add(full);
    const ns = full.slice(0, full.lastIndexOf('.'));
    return { ...rec, fields: rec.fields.map((f) => ({ ...f, type: resolveType(f.type as Json, ns) })) };
  };

  const tree = resolveRecord(root, '');
  for (const name of byName.keys()) {
    if (!defined.has(name)) throw new Error(`published ${version}: ${name} is never used by ztf.alert`);
  }
  return { tree, files };
}

function stripDocs(x: Json): Json {
  if (Array.isArray(x)) return x.map(stripDocs);
  if (isObject(x)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'doc') out[k] = stripDocs(v);
    return out;
  }
  return x;
}

/** Every record (by full name) in definition order, with the namespace it lives in. */
function records(tree: JsonObject): Map<string, RecordSchema> {
  const out = new Map<string, RecordSchema>();
  const walk = (t: Json, ns: string): void => {
    if (Array.isArray(t)) t.forEach((b) => walk(b, ns));
    else if (isRecord(t)) {
      const full = fullName(t, ns);
      out.set(full, t);
      const inner = full.slice(0, full.lastIndexOf('.'));
      for (const f of t.fields) walk(f.type as Json, inner);
    } else if (isObject(t) && t.type === 'array') walk(t.items as Json, ns);
    else if (isObject(t) && t.type === 'map') walk(t.values as Json, ns);
  };
  walk(tree, '');
  return out;
}

/** doc strings keyed "record" for a record's own doc and "record.field" for fields. */
function docs(tree: JsonObject): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, rec] of records(tree)) {
    if (typeof rec.doc === 'string') out.set(name, rec.doc);
    for (const f of rec.fields) if (typeof f.doc === 'string') out.set(`${name}.${f.name as string}`, f.doc);
  }
  return out;
}

const normalise = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();

/** Copy of the schema without the listed field defaults ("record.field"). */
function withoutDefaults(tree: JsonObject, drop: Set<string> | 'all'): JsonObject {
  const copy = structuredClone(tree);
  for (const [name, rec] of records(copy)) {
    for (const f of rec.fields) {
      if ('default' in f && (drop === 'all' || drop.has(`${name}.${f.name as string}`))) delete f.default;
    }
  }
  return copy;
}

/**
 * Field defaults that avsc (the Avro spec) rejects: a union default must match the union's FIRST branch. Judged by
 * avsc itself on the parsed types, not by our own reading of the spec.
 */
function invalidDefaults(tree: JsonObject): { field: string; type: Json; default: Json }[] {
  const registry: Record<string, avro.Type> = {};
  avro.Type.forSchema(withoutDefaults(tree, 'all') as unknown as Schema, { wrapUnions: false, registry });
  const bad: { field: string; type: Json; default: Json }[] = [];
  for (const [name, rec] of records(tree)) {
    const parsed = registry[name] as types.RecordType | undefined;
    if (!parsed) throw new Error(`avsc did not register ${name}`);
    for (const f of rec.fields) {
      if (!('default' in f)) continue;
      const type = parsed.field(f.name as string).type;
      const first = Array.isArray(f.type) ? (type as types.UnwrappedUnionType).types[0]! : type;
      if (!first.isValid(f.default)) bad.push({ field: `${name}.${f.name as string}`, type: f.type, default: f.default as Json });
    }
  }
  return bad;
}

describe.each(['4.02', '3.3'])('ZTF alert schema %s', (version) => {
  const ours = loadOurs(version);
  const { tree: published, files } = loadPublished(version);

  it('reads all published parts', () => {
    expect(files).toEqual(EXPECTED[version]!.parts);
  });

  it('has exactly the published structure apart from doc strings', () => {
    // Arrays compare in order: this covers field order and union branch order.
    expect(stripDocs(ours)).toStrictEqual(stripDocs(published));
  });

  it('defines each named record once, in the same order as the published schema', () => {
    expect([...records(ours).keys()]).toEqual([...records(published).keys()]);
  });

  it('has the expected field counts for alert and candidate', () => {
    const recs = records(ours);
    const expected = EXPECTED[version]!;
    expect(recs.get('ztf.alert')?.fields).toHaveLength(expected.alert);
    expect(recs.get('ztf.alert.candidate')?.fields).toHaveLength(expected.candidate);
    expect(records(published).get('ztf.alert.candidate')?.fields).toHaveLength(expected.candidate);
  });

  it('documents every field the published schema documents', () => {
    const ourDocs = docs(ours);
    const missing = [...docs(published).keys()].filter((k) => !(ourDocs.get(k)?.trim()));
    expect(missing).toEqual([]);
  });

  it('writes its own doc strings (none equal to the published text)', () => {
    const ourDocs = docs(ours);
    const copied = [...docs(published)]
      .filter(([k, theirs]) => ourDocs.has(k) && normalise(ourDocs.get(k)!) === normalise(theirs))
      .map(([k]) => k);
    expect(copied).toEqual([]);
  });

  it('has no empty doc strings', () => {
    const empty = [...docs(ours)].filter(([, d]) => !d.trim()).map(([k]) => k);
    expect(empty).toEqual([]);
  });

  it('parses with avsc; only null defaults on unions whose first branch is not null need dropping', () => {
    const bad = invalidDefaults(ours);
    // The only invalid defaults allowed are the ZTF <= 3.3 flaw: "default": null on ["X", "null"].
    for (const b of bad) {
      expect(b.default, b.field).toBeNull();
      expect(Array.isArray(b.type) && b.type[0] !== 'null' && b.type.includes('null'), b.field).toBe(true);
    }
    const parse = (s: JsonObject): avro.Type => avro.Type.forSchema(s as unknown as Schema, { wrapUnions: false });
    if (bad.length === 0) {
      expect(() => parse(ours)).not.toThrow();
    } else {
      expect(() => parse(ours)).toThrow(/default/);
      const type = parse(withoutDefaults(ours, new Set(bad.map((b) => b.field))));
      expect((type as types.RecordType).fields).toHaveLength(EXPECTED[version]!.alert);
    }
    if (version === '4.02') expect(bad).toEqual([]);
    if (version === '3.3') expect(bad.length).toBeGreaterThan(0);
  });
});
