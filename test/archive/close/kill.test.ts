import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNight } from '../../../src/archive/close/index.ts';
import { md5sumsKey, openArchive, tarballKey } from '../../../src/archive/index.ts';
import { exited, runZads, spawnZads } from '../../helpers/cli.ts';
import { addAlerts, realAlerts, renumbered, run, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';

const NIGHT = '20180819';
/** Late alerts that make the rebuild long enough to be killed in the middle: ~120 MB of tar. */
const LATE_ALERTS = 1800;
/** The temporary tarball must have grown past this before the kill: the close is well under way. */
const KILL_AFTER_BYTES = 4 * 1024 * 1024;

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

describe('a close killed with SIGKILL in the middle of writing', () => {
  let t: TempArchive;
  let tarball: string;
  let folder: string;
  let before: { tarball: string; md5sums: string };

  beforeAll(async () => {
    t = await tempArchive();
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 20), { night: NIGHT, programid: 1, source: 'p0' });
    await closeNight(t.archive, { night: NIGHT, programid: 1 });
    tarball = join(t.dataDir, tarballKey(NIGHT, 1));
    folder = join(t.dataDir, 'alerts/public');
    before = { tarball: md5(readFileSync(tarball)), md5sums: readFileSync(join(t.dataDir, md5sumsKey(1)), 'utf8') };
    // Late alerts reopen the night: the next close rebuilds its tarball.
    await addAlerts(t.archive, [...renumbered(alerts, LATE_ALERTS, 700_000_000_000_000_000n)], { night: NIGHT, programid: 1, source: 'p1' });
    await t.archive.close(); // the command takes the writer lock
  }, 120_000);
  afterAll(async () => {
    await t.cleanup();
  });

  it('leaves the previous tarball and MD5SUMS intact, and the night closes on the next try', async () => {
    // Level 9: the slowest deflate, so the write is still going when the temporary file is seen.
    const child = spawnZads(['archive', 'close', '--data', t.dataDir, '--night', NIGHT, '--gzip-level', '9']);
    const exit = exited(child);
    let partial: string | undefined;
    for (;;) {
      partial = readdirSync(folder).find((f) => f.startsWith('ztf_public_20180819.tar.gz.tmp-'));
      if (partial && statSync(join(folder, partial)).size > KILL_AFTER_BYTES) break;
      if (child.exitCode !== null) throw new Error(`the close ended before it could be killed: ${(await exit).output}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');

    // Killed mid-way: the temporary is there, cut short; the tarball and MD5SUMS are the previous ones.
    expect(readdirSync(folder)).toContain(partial);
    expect(md5(readFileSync(tarball))).toBe(before.tarball);
    expect(readFileSync(join(folder, 'MD5SUMS'), 'utf8')).toBe(before.md5sums);
    expect(run('md5sum', ['-c', 'MD5SUMS'], folder).trim()).toBe('ztf_public_20180819.tar.gz: OK');
    expect(run('tar', ['-tzf', tarball]).trim().split('\n')).toHaveLength(20);

    const reader = await openArchive({ dataDir: t.dataDir });
    try {
      expect(reader.catalogue.night(NIGHT, 1)).toMatchObject({ state: 'open', tarballMd5: before.tarball });
    } finally {
      await reader.close();
    }

    // Closing it again gives the whole night and removes the temporary.
    const again = runZads(['archive', 'close', '--data', t.dataDir, '--night', NIGHT, '--json'], { timeoutMs: 300_000 });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alerts: 20 + LATE_ALERTS, closed: true, rebuilt: true });
    expect(readdirSync(folder).sort()).toEqual(['MD5SUMS', 'ztf_public_20180819.tar.gz']);
    expect(run('md5sum', ['-c', 'MD5SUMS'], folder).trim()).toBe('ztf_public_20180819.tar.gz: OK');
    expect(run('tar', ['-tzf', tarball]).trim().split('\n')).toHaveLength(20 + LATE_ALERTS);
    const archive = await openArchive({ dataDir: t.dataDir });
    try {
      expect(archive.catalogue.night(NIGHT, 1)).toMatchObject({ state: 'closed', tarballAlerts: 20 + LATE_ALERTS, tarballMd5: md5(readFileSync(tarball)) });
    } finally {
      await archive.close();
    }
  }, 300_000);
});
