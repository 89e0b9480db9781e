import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { iterateTarball, readContainer } from '../../src/alert/index.ts';
import type { TarMember } from '../../src/alert/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { SAMPLE_TARBALL } from '../helpers/data.ts';

async function collect(file: string): Promise<{ members: TarMember[]; error?: unknown }> {
  const members: TarMember[] = [];
  try {
    for await (const m of iterateTarball(file)) members.push(m);
    return { members };
  } catch (error) {
    return { members, error };
  }
}

describe('UW night tarballs', () => {
  it('streams the 30 alerts of the real sample night, each member named after its candid', async () => {
    const { members, error } = await collect(SAMPLE_TARBALL);
    expect(error).toBeUndefined();
    expect(members).toHaveLength(30);
    for (const m of members) {
      const [decoded] = readContainer(m.bytes);
      expect(`${decoded!.alert.candid}.avro`).toBe(m.name);
    }
  });

  it('yields the complete members before a truncation, then ARCHIVE_CORRUPT naming the file', async () => {
    const tar = gunzipSync(readFileSync(SAMPLE_TARBALL));
    const dir = mkdtempSync(join(tmpdir(), 'zads-tar-'));
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, gzipSync(tar.subarray(0, Math.floor(tar.length / 2))));
    const { members, error } = await collect(cut);
    expect(members.length).toBeGreaterThan(5);
    expect(members.length).toBeLessThan(30);
    for (const m of members) expect(() => readContainer(m.bytes)).not.toThrow();
    expect(isZadsError(error, 'ARCHIVE_CORRUPT')).toBe(true);
    expect(error).toMatchObject({ context: { file: cut } });
  });

  it('reports a damaged gzip stream as ARCHIVE_CORRUPT', async () => {
    const gz = Buffer.from(readFileSync(SAMPLE_TARBALL));
    for (let i = 2000; i < 2100; i++) gz[i] = 0;
    const dir = mkdtempSync(join(tmpdir(), 'zads-tar-'));
    const bad = join(dir, 'bad.tar.gz');
    writeFileSync(bad, gz);
    const { error } = await collect(bad);
    expect(isZadsError(error, 'ARCHIVE_CORRUPT')).toBe(true);
  });

  it('reports a missing tarball as INPUT_NOT_FOUND', async () => {
    const { error } = await collect('/nonexistent/ztf_public_20180101.tar.gz');
    expect(isZadsError(error, 'INPUT_NOT_FOUND')).toBe(true);
  });
});
