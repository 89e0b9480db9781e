import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeNight } from '../../../src/archive/close/index.ts';
import { runZads } from '../../helpers/cli.ts';
import { addAlerts, realAlerts, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';

describe('zads archive verify', () => {
  let t: TempArchive;
  beforeAll(async () => {
    t = await tempArchive();
    await addAlerts(t.archive, (await realAlerts()).slice(0, 6), { night: '20180819', programid: 1 });
    await closeNight(t.archive, { night: '20180819', programid: 1 });
    await t.archive.close();
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('says an intact archive has no differences, exit 0', () => {
    const r = runZads(['archive', 'verify', '--data', t.dataDir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('1 night(s) checked: no differences\n');
  });

  it('prints each difference and exits 1', () => {
    const sums = join(t.dataDir, 'alerts/public/MD5SUMS');
    const good = readFileSync(sums, 'utf8');
    writeFileSync(sums, good.replace(/^[0-9a-f]{32}/, 'f'.repeat(32)));
    try {
      const r = runZads(['archive', 'verify', '--data', t.dataDir, '--night', '20180819']);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(`20180819 programid 1 md5sums-mismatch: alerts/public/MD5SUMS gives ${'f'.repeat(32)} for ztf_public_20180819.tar.gz`);
      expect(r.stdout).toContain('1 night(s) checked: 1 difference(s)');
      const json = runZads(['archive', 'verify', '--data', t.dataDir, '--json']);
      expect(json.status).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ nights: 1, differences: [{ night: '20180819', programid: 1, kind: 'md5sums-mismatch' }] });
    } finally {
      writeFileSync(sums, good);
    }
  });

  it('fails clearly on a night it does not know', () => {
    const r = runZads(['archive', 'verify', '--data', t.dataDir, '--night', '20990101']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('night 20990101 is not in the catalogue');
  });
});
