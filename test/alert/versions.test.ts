import { readFileSync, readdirSync, existsSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { KNOWN_STRUCTURES, parseSchema, withoutDefaults } from '../../src/alert/index.ts';
import { PUBLISHED_SCHEMAS } from '../helpers/data.ts';

/** The structure fingerprint of a published version, from its split .avsc files. */
function publishedFingerprint(version: string): string {
  const registry = {};
  let alert: avro.Type | undefined;
  for (const part of ['cutout', 'candidate', 'prv_candidate', 'fp_hist', 'alert']) {
    const file = `${PUBLISHED_SCHEMAS}${version}/${part}.avsc`;
    if (!existsSync(file)) continue;
    const schema = withoutDefaults(JSON.parse(readFileSync(file, 'utf8'))) as avro.Schema;
    const type = avro.Type.forSchema(schema, { wrapUnions: false, registry });
    if (part === 'alert') alert = type;
  }
  return alert!.fingerprint('sha256').toString('hex');
}

describe('schema versions recognised by structure', () => {
  const versions = readdirSync(PUBLISHED_SCHEMAS).sort();

  it('has exactly the published versions in its table', () => {
    const table = [...KNOWN_STRUCTURES.values()].flat().sort();
    expect(table).toEqual(versions);
  });

  for (const version of versions) {
    it(`knows ${version} by its canonical fingerprint`, () => {
      expect(KNOWN_STRUCTURES.get(publishedFingerprint(version))).toContain(version);
    });
  }

  it('trusts structure over the version label', () => {
    const text = readFileSync(new URL('../../schemas/3.3.avsc', import.meta.url), 'utf8');
    const relabelled = JSON.parse(text);
    relabelled.version = '4.02';
    const parsed = parseSchema(relabelled);
    expect(parsed.version).toBe('3.3');
    expect(parsed.declaredVersion).toBe('4.02');
  });

  it('falls back to the declared version for an unknown structure', () => {
    const parsed = parseSchema({ type: 'record', name: 'x', version: '7.0', fields: [{ name: 'a', type: 'long' }] });
    expect(parsed).toMatchObject({ version: '7.0', knownStructure: false });
  });

  it('refuses a schema that is not Avro, with SCHEMA_INVALID', () => {
    expect(() => parseSchema('{"type": "nonsense"}')).toThrow(expect.objectContaining({ code: 'SCHEMA_INVALID' }));
    expect(() => parseSchema('not json')).toThrow(expect.objectContaining({ code: 'SCHEMA_INVALID' }));
  });
});
