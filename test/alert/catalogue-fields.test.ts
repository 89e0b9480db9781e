import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE_CANDIDATE_FIELDS, catalogueReader, decodeCatalogueFields, readContainer, writeContainer } from '../../src/alert/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { TRAILING_GARBAGE_FILE, V33_FILE, goodAlertFiles } from '../helpers/data.ts';
import { buildContainer, cloneParts, encodeLong, locateVarints, parseContainer } from '../helpers/fuzz/index.ts';
import type { Json, VarintAt } from '../helpers/fuzz/index.ts';

/*
 * The archive's reader of an alert: only what the catalogue files it under (objectId, candid, the
 * candidate's time, position, filter, magnitude and scores), the cutouts and history skipped. It must
 * give the same catalogue fields as a full decode for every ZTF schema version, and refuse what a full
 * decode refuses, with the full decode's error (test/alert/fuzz.test.ts compares the two on thousands of
 * damaged alerts).
 */

const pick = (candidate: Record<string, unknown>) => Object.fromEntries(CATALOGUE_CANDIDATE_FIELDS.filter((k) => k in candidate).map((k) => [k, candidate[k]]));

describe('the catalogue fields of an alert', () => {
  // The trailing-garbage sample is refused by a full decode (last test).
  const files = goodAlertFiles().filter((f) => f.path !== TRAILING_GARBAGE_FILE);

  it.each(files.map((f) => [f.version, f] as const))('schema %s: the fast reader is used and gives the full decode\'s catalogue fields', async (_v, f) => {
    const bytes = readFileSync(f.path);
    const full = readContainer(bytes);
    const fast = await decodeCatalogueFields(bytes, { source: { file: f.path } });
    expect(catalogueReader(full[0]!.schema), 'a reader of the catalogue fields for this schema').not.toBeNull();
    expect(fast).toHaveLength(full.length);
    fast.forEach((d, i) => {
      const whole = full[i]!.alert;
      expect(d.alert.candid).toBe(BigInt(f.candid));
      expect({ objectId: d.alert.objectId, candid: d.alert.candid, candidate: d.alert.candidate }).toEqual({
        objectId: whole.objectId,
        candid: whole.candid,
        candidate: pick(whole.candidate),
      });
      // Nothing else was read: no cutouts, no history.
      expect(Object.keys(d.alert).sort()).toEqual(['candid', 'candidate', 'objectId']);
      expect(d.schema.version).toBe(full[i]!.schema.version);
      expect(d.source).toEqual({ file: f.path });
    });
  });

  it('reads every alert of a container holding several, in order', async () => {
    const { alert, schema } = readContainer(readFileSync(V33_FILE))[0]!;
    const many = [1n, 2n, 3n].map((n) => ({ ...alert, candid: alert.candid + n, candidate: { ...alert.candidate, candid: alert.candid + n, ra: 10 + Number(n) } }));
    const fast = await decodeCatalogueFields(writeContainer(many, schema));
    expect(fast.map((d) => [d.alert.candid, d.alert.candidate.ra])).toEqual(many.map((a) => [a.candid, a.candidate.ra]));
  });

  describe('the skipped history is read item by item, as a full decode reads it', () => {
    const v33 = readFileSync(V33_FILE);
    const parts = parseContainer(v33);
    const { schema } = readContainer(v33)[0]!;
    const record = parts.blocks[0]!.data;
    const count = locateVarints(JSON.parse(schema.text) as Json, record).varints.find((v) => v.kind === 'count' && v.path === '.prv_candidates')!;
    const items = Number(count.value);
    /** The record with its prv_candidates count written as a negative count followed by `size` (Avro's sized blocks). */
    const sized = (size: number) => Buffer.concat([record.subarray(0, count.pos), encodeLong(BigInt(-items)), encodeLong(BigInt(size)), record.subarray(count.end)]);
    const itemsBytes = ((): number => {
      // Where the history ends: the position of the block-ending 0 count after the items.
      const after: VarintAt[] = locateVarints(JSON.parse(schema.text) as Json, record).varints.filter((v) => v.path === '.prv_candidates' && v.kind === 'count');
      return after[after.length - 1]!.pos - count.end;
    })();

    const sizes: [string, number][] = [
      ['its true byte size', itemsBytes],
      ['a byte size that disagrees with its items (a full decode ignores it)', 1],
    ];
    it.each(sizes)('a sized block with %s: the same record as a full decode', (_label, size) => {
      expect(items).toBeGreaterThan(0);
      const data = sized(size);
      const reader = catalogueReader(schema)!;
      const full = schema.type.decode(data, 0);
      const fast = reader.decode(data, 0);
      expect(full.offset).toBe(data.length);
      expect(fast.offset).toBe(full.offset);
      const whole = full.value as { objectId: string; candid: bigint; candidate: Record<string, unknown> };
      expect(fast.value).toMatchObject({ objectId: whole.objectId, candid: whole.candid, candidate: pick(whole.candidate) });
    });

    it('a count more than the bytes left could hold is refused by both, with the full decode\'s error', async () => {
      const damaged = cloneParts(parts);
      damaged.blocks[0]!.data = Buffer.concat([record.subarray(0, count.pos), encodeLong(2n ** 31n - 1n), record.subarray(count.end)]);
      const bytes = buildContainer(damaged);
      expect(() => catalogueReader(schema)!.decode(damaged.blocks[0]!.data, 0)).toThrow(/array block count \d+ is more than the \d+ bytes left/);
      const full = await Promise.resolve().then(() => readContainer(bytes)).catch((err: unknown) => err);
      const fast = await decodeCatalogueFields(bytes).catch((err: unknown) => err);
      expect(isZadsError(full, 'ALERT_CORRUPT')).toBe(true);
      expect((fast as Error).message).toBe((full as Error).message);
      expect(isZadsError(fast, 'ALERT_CORRUPT')).toBe(true);
    });
  });

  it('refuses what a full decode refuses: bytes left after the record', async () => {
    const bytes = readFileSync(TRAILING_GARBAGE_FILE);
    const fast = await decodeCatalogueFields(bytes).catch((err: unknown) => err);
    expect(isZadsError(fast, 'ALERT_CORRUPT')).toBe(true);
  });
});
