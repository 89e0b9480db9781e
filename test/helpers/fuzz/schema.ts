import type { FuzzRandom } from './random.ts';
import type { Json } from './record.ts';

/* Changes to a writer schema (parsed JSON): structural ones, and ones that keep the bytes' encoding. */

const PRIMITIVES = ['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'];

/** One structural change to a parsed schema (JSON), in place where it can be; returns the new schema. */
export function mutateSchemaJson(rnd: FuzzRandom, schema: Json): { schema: Json; what: string } {
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
export function retypeField(rnd: FuzzRandom, schema: Json): { schema: Json; what: string } {
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
