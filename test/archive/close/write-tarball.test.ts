import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { checkWrittenTail, writeTarball } from '../../../src/archive/close/index.ts';
import type { TarMemberInput } from '../../../src/archive/close/index.ts';
import { TarGzWriter } from '../../../src/alert/index.ts';
import type { ByteSink } from '../../../src/alert/index.ts';
import { realAlerts, run } from '../../helpers/archive.ts';

const dir = mkdtempSync(join(tmpdir(), 'zads-tarball-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* members(count: number, failAt?: number): AsyncGenerator<TarMemberInput> {
  const alerts = await realAlerts();
  for (let i = 0; i < count; i++) {
    if (i === failAt) throw new Error('segment read failed');
    yield { name: `${alerts[i]!.candid}.avro`, date: new Date(Date.UTC(2018, 7, 19)), bytes: alerts[i]!.bytes };
  }
}

/** The summary of the same members written to memory: what checkWrittenTail compares the file with. */
async function summaryOf(count: number): Promise<Parameters<typeof checkWrittenTail>[1]> {
  const chunks: Buffer[] = [];
  const sink: ByteSink = { write: async (c) => void chunks.push(Buffer.from(c)) };
  const w = new TarGzWriter(sink);
  for await (const m of members(count)) await w.add(m);
  return w.finish();
}

describe('writeTarball and its check of the file as written', () => {
  it('writes members GNU tar lists, with the MD5 and size of the file', async () => {
    const path = join(dir, 'a.tar.gz');
    const written = await writeTarball(path, members(6));
    const bytes = readFileSync(path);
    expect(written).toMatchObject({ members: 6, sizeBytes: bytes.length, md5: createHash('md5').update(bytes).digest('hex') });
    expect(run('tar', ['-tzf', path]).trim().split('\n')).toHaveLength(6);
  });

  it('the end check catches a file cut short, a damaged end, and another stream', async () => {
    const written = await summaryOf(5);
    const path = join(dir, 'b.tar.gz');
    await writeTarball(path, members(5));
    await checkWrittenTail(path, written);

    const bytes = readFileSync(path);
    const torn = Buffer.from(bytes);
    torn[torn.length - 12]! ^= 0x01; // inside the final deflate block: the size is right, the end is not
    writeFileSync(join(dir, 'b-torn.tar.gz'), torn);
    await expect(checkWrittenTail(join(dir, 'b-torn.tar.gz'), written)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: expect.stringContaining('does not end with') });

    writeFileSync(join(dir, 'b-short.tar.gz'), bytes);
    truncateSync(join(dir, 'b-short.tar.gz'), bytes.length - 100);
    await expect(checkWrittenTail(join(dir, 'b-short.tar.gz'), written)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: expect.stringContaining('bytes on disk') });

    // Same length and same last bytes, but a trailer for other tar bytes: the CRC tells.
    await expect(checkWrittenTail(path, { ...written, crc32: (written.crc32 + 1) >>> 0 })).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', message: expect.stringContaining('trailer') });
  });

  it('stops, without hanging, when reading a member fails midway', async () => {
    await expect(writeTarball(join(dir, 'd.tar.gz'), members(10, 4))).rejects.toThrow('segment read failed');
  });

  it('refuses to overwrite a file (it writes only new temporary files)', async () => {
    writeFileSync(join(dir, 'e.tar.gz'), 'x');
    await expect(writeTarball(join(dir, 'e.tar.gz'), members(1))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
