import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTarball } from '../../../src/archive/close/index.ts';
import type { TarMemberInput } from '../../../src/archive/close/index.ts';
import { checkReadBack } from '../../../src/archive/close/read-back.ts';
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

describe('writeTarball and its read-back check', () => {
  it('writes members that read back, and the check catches a damaged file', async () => {
    const path = join(dir, 'a.tar.gz');
    const written = await writeTarball(path, members(6));
    expect(written).toMatchObject({ members: 6, sizeBytes: readFileSync(path).length });
    await checkReadBack(path, written, { night: '20180819', programid: 1 });
    expect(run('tar', ['-tzf', path]).trim().split('\n')).toHaveLength(6);

    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 3)]! ^= 0x10;
    writeFileSync(path, bytes);
    await expect(checkReadBack(path, written, { night: '20180819', programid: 1 })).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', context: { night: '20180819' } });
  });

  it('catches a tarball that holds other members than were written', async () => {
    const first = await writeTarball(join(dir, 'b.tar.gz'), members(4));
    await writeTarball(join(dir, 'c.tar.gz'), members(3));
    await expect(checkReadBack(join(dir, 'c.tar.gz'), first, { night: '20180819', programid: 1 })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining('3 member(s)'),
    });
  });

  it('stops, without hanging, when reading a member fails midway', async () => {
    await expect(writeTarball(join(dir, 'd.tar.gz'), members(10, 4))).rejects.toThrow('segment read failed');
  });

  it('refuses to overwrite a file (it writes only new temporary files)', async () => {
    writeFileSync(join(dir, 'e.tar.gz'), 'x');
    await expect(writeTarball(join(dir, 'e.tar.gz'), members(1))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
