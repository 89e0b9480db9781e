import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iterateContainer, summarize, toJsonValue } from '../../src/alert/index.ts';
import { TRAILING_GARBAGE_FILE } from '../helpers/data.ts';

const first = iterateContainer(readFileSync(TRAILING_GARBAGE_FILE)).next().value!;

describe('JSON view', () => {
  it('writes every 64-bit integer as an exact string', () => {
    const json = JSON.parse(JSON.stringify(toJsonValue(first.alert)));
    expect(json.candid).toBe('2480088313915010007');
    expect(json.candidate.candid).toBe('2480088313915010007');
    expect(typeof json.candidate.pid).toBe('string');
    expect(json.prv_candidates.every((p: { candid: unknown }) => p.candid === null || typeof p.candid === 'string')).toBe(true);
  });

  it('writes cutouts as base64 that decodes to the gzipped FITS bytes, or leaves them out', () => {
    const json = toJsonValue(first.alert) as { cutoutScience: { stampData: string } };
    expect(Buffer.from(json.cutoutScience.stampData, 'base64')).toEqual(first.alert.cutoutScience!.stampData);
    const lean = toJsonValue(first.alert, { bytes: 'omit' }) as { cutoutScience: Record<string, unknown> };
    expect(lean.cutoutScience).toEqual({ fileName: first.alert.cutoutScience!.fileName });
  });

  it('summarises an alert with its candid as a string and its real schema version', () => {
    const s = summarize(first);
    expect(s).toMatchObject({ candid: '2480088313915010007', objectId: 'ZTF21aapuacc', schemaVersion: '4.02', fid: 2, prvCandidates: 36 });
  });
});
