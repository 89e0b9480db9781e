import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SchemaCache,
  iterateContainer,
  readContainer,
  shippedSchema,
  writeContainer,
} from '../../src/alert/index.ts';
import type { DecodedAlert } from '../../src/alert/index.ts';
import { ZadsError, isZadsError } from '../../src/errors.ts';
import {
  BROKEN_FILE,
  TRAILING_GARBAGE_FILE,
  V33_FILE,
  goodAlertFiles,
  seededRandom,
} from '../helpers/data.ts';

function decodeUntilError(bytes: Buffer): { alerts: DecodedAlert[]; error?: unknown } {
  const alerts: DecodedAlert[] = [];
  try {
    for (const a of iterateContainer(bytes, { source: { file: 'test.avro' } })) alerts.push(a);
    return { alerts };
  } catch (error) {
    return { alerts, error };
  }
}

describe('reading real ZTF container files', () => {
  for (const file of goodAlertFiles().filter((f) => !f.path.includes('trailing-garbage'))) {
    it(`decodes ${file.path.split('/').pop()} with its embedded ${file.version} schema`, () => {
      const [decoded, ...rest] = readContainer(readFileSync(file.path), { source: { file: file.path } });
      expect(rest).toHaveLength(0);
      const { alert, schema } = decoded!;
      expect(alert.candid.toString()).toBe(file.candid);
      expect(alert.candidate.candid.toString()).toBe(file.candid);
      expect(alert.objectId).toMatch(/^ZTF\d{2}[a-z]{7}$/);
      expect(schema.version).toBe(file.version);
      expect(schema.knownStructure).toBe(true);
      expect(typeof alert.candidate.pid).toBe('bigint');
      expect(alert.cutoutScience?.stampData.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(decoded!.source.file).toBe(file.path);
    });
  }

  it('keeps a candid above 2^53 exact', () => {
    const { alerts } = decodeUntilError(readFileSync(TRAILING_GARBAGE_FILE));
    expect(alerts[0]!.alert.candid).toBe(2480088313915010007n);
    expect(Number(alerts[0]!.alert.candid).toString()).not.toBe('2480088313915010007');
  });

  it('returns the valid alert of the trailing-garbage file, then a corrupt error at the garbage', () => {
    const bytes = readFileSync(TRAILING_GARBAGE_FILE);
    const { alerts, error } = decodeUntilError(bytes);
    expect(alerts.map((a) => a.alert.objectId)).toEqual(['ZTF21aapuacc']);
    expect(alerts[0]!.schema.version).toBe('4.02');
    expect(isZadsError(error, 'ALERT_CORRUPT')).toBe(true);
    const err = error as ZadsError;
    expect(err.context.file).toBe('test.avro');
    expect(err.context.bytePosition).toBeGreaterThan(80_000);
    expect(err.context.bytePosition).toBeLessThan(bytes.length);
  });

  it('reports the broken file clearly and invents no alert', () => {
    const { alerts, error } = decodeUntilError(readFileSync(BROKEN_FILE));
    expect(alerts).toHaveLength(0);
    expect(isZadsError(error, 'ALERT_CORRUPT')).toBe(true);
    expect((error as ZadsError).message).toMatch(/does not decode with its writer schema/);
    expect((error as ZadsError).context.bytePosition).toBeGreaterThan(0);
  });

  it('parses each distinct writer schema once', () => {
    const cache = new SchemaCache();
    const bytes = readFileSync(V33_FILE);
    for (let i = 0; i < 50; i++) readContainer(bytes, { cache });
    expect(cache.parses).toBe(1);
    for (const f of goodAlertFiles()) decodeUntilError(readFileSync(f.path));
    const versions = new Set(goodAlertFiles().map((f) => f.version));
    const cache2 = new SchemaCache();
    for (const f of goodAlertFiles()) {
      try {
        readContainer(readFileSync(f.path), { cache: cache2 });
      } catch {
        // the trailing-garbage file still registers its schema
      }
    }
    expect(cache2.parses).toBe(versions.size);
  });
});

describe('damaged input', () => {
  const good = readFileSync(V33_FILE);

  it('refuses bytes that are not a container with the byte position 0', () => {
    const random = Buffer.alloc(5000);
    const rnd = seededRandom(1);
    for (let i = 0; i < random.length; i++) random[i] = Math.floor(rnd() * 256);
    const { alerts, error } = decodeUntilError(random);
    expect(alerts).toHaveLength(0);
    expect(isZadsError(error, 'ALERT_NOT_CONTAINER')).toBe(true);
    expect((error as ZadsError).context.bytePosition).toBe(0);
  });

  it('gives a typed error for a file cut anywhere', () => {
    const rnd = seededRandom(2);
    const cuts = [3, 10, 100, 5000, 23_000, 30_000, good.length - 17, good.length - 1];
    for (let i = 0; i < 40; i++) cuts.push(Math.floor(rnd() * good.length));
    for (const cut of cuts) {
      const { alerts, error } = decodeUntilError(good.subarray(0, cut));
      expect(alerts, `cut at ${cut}`).toHaveLength(0);
      expect(error, `cut at ${cut}`).toBeInstanceOf(ZadsError);
      expect(['ALERT_TRUNCATED', 'ALERT_NOT_CONTAINER', 'ALERT_CORRUPT']).toContain((error as ZadsError).code);
    }
  });

  it('never crashes on flipped bytes, and a reported error names a byte inside the file', () => {
    const rnd = seededRandom(3);
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      const copy = Buffer.from(good);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) copy[Math.floor(rnd() * copy.length)] ^= 1 << Math.floor(rnd() * 8);
      const { alerts, error } = decodeUntilError(copy);
      if (error !== undefined) {
        errors++;
        expect(error).toBeInstanceOf(ZadsError);
        const pos = (error as ZadsError).context.bytePosition;
        expect(pos).toBeGreaterThanOrEqual(0);
        expect(pos).toBeLessThanOrEqual(copy.length);
        expect(alerts).toHaveLength(0);
      } else {
        expect(alerts).toHaveLength(1);
      }
    }
    expect(errors).toBeGreaterThan(0);
  });

  it('keeps the alerts of the blocks before damage in a multi-block file', () => {
    const decoded = readContainer(good)[0]!;
    const schema = decoded.schema;
    const one = writeContainer([decoded.alert], schema, { sync: Buffer.alloc(16, 7) });
    // Append a second and third block by hand: the header ends where the first block starts.
    const headerEnd = one.length - (one.length - (one.indexOf(Buffer.alloc(16, 7)) + 16));
    const block = one.subarray(headerEnd);
    const file = Buffer.concat([one, block, block.subarray(0, block.length - 5000)]);
    const { alerts, error } = decodeUntilError(file);
    expect(alerts).toHaveLength(2);
    expect(isZadsError(error, 'ALERT_TRUNCATED')).toBe(true);
  });

  it('gives a typed error, quickly, for an absurd prv_candidates count', () => {
    const decoded = readContainer(good)[0]!;
    const record = decoded.schema.type.toBuffer(decoded.alert);
    // prv_candidates is a union ["null", array]: find its array count by re-encoding with no history.
    const noHistory = decoded.schema.type.toBuffer({ ...decoded.alert, prv_candidates: [] });
    expect(noHistory.length).toBeLessThan(record.length);
    const schemaless = writeContainer([decoded.alert], decoded.schema);
    const idx = schemaless.indexOf(record);
    // Overwrite the count (the first byte where the two encodings differ) with a huge zigzag long.
    let at = 0;
    while (record[at] === noHistory[at]) at++;
    const huge = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]);
    // Same length, so the block size and sync marker still match and the decoder meets the count.
    const damaged = Buffer.from(schemaless);
    huge.copy(damaged, idx + at);
    const started = Date.now();
    const { alerts, error } = decodeUntilError(damaged);
    expect(alerts).toHaveLength(0);
    expect(error).toBeInstanceOf(ZadsError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('writing container files', () => {
  it('round-trips a real 4.02 alert through our 4.02 schema, readable with its embedded schema', () => {
    const { alerts } = decodeUntilError(readFileSync(TRAILING_GARBAGE_FILE));
    const original = alerts[0]!.alert;
    const bytes = writeContainer([original], shippedSchema('4.02'));
    const [back] = readContainer(bytes);
    expect(back!.schema.version).toBe('4.02');
    expect(back!.alert).toEqual(original);
  });

  it('round-trips a real 3.3 alert through our 3.3 schema, with several alerts and deflate', () => {
    const original = readContainer(readFileSync(V33_FILE))[0]!.alert;
    const second = { ...original, candid: 1n, candidate: { ...original.candidate, candid: 1n } };
    const bytes = writeContainer([original, second], shippedSchema('3.3'), { codec: 'deflate' });
    const back = readContainer(bytes);
    expect(back.map((a) => a.alert.candid)).toEqual([original.candid, 1n]);
    expect(back[0]!.alert).toEqual(original);
    expect(back[0]!.schema.version).toBe('3.3');
  });

  it('refuses an alert that does not fit the schema and names the field', () => {
    const original = readContainer(readFileSync(V33_FILE))[0]!.alert;
    const bad = { ...original, candidate: { ...original.candidate, magpsf: 'bright' } };
    expect(() => writeContainer([bad], shippedSchema('3.3'))).toThrow(/candidate\.magpsf/);
  });

  it('refuses a schema version we do not ship', () => {
    expect(() => shippedSchema('9.9')).toThrow(expect.objectContaining({ code: 'SCHEMA_VERSION_UNSUPPORTED' }));
  });
});
