import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runZads } from '../../helpers/cli.ts';
import { addAlerts, realAlerts, renumbered, run, tempArchive } from '../../helpers/archive.ts';
import type { TempArchive } from '../../helpers/archive.ts';

describe('zads archive close', () => {
  let t: TempArchive;
  beforeAll(async () => {
    t = await tempArchive();
    const alerts = await realAlerts();
    await addAlerts(t.archive, alerts.slice(0, 12), { night: '20180819', programid: 1 });
    await addAlerts(t.archive, [], { night: '20180820', programid: 2 });
    await addAlerts(t.archive, [...renumbered(alerts, 2, 700_000_000_000_000_000n)], { night: '20180818', programid: 1 });
    await t.archive.close(); // the command takes the writer lock
  });
  afterAll(async () => {
    await t.cleanup();
  });

  it('closes a night and prints its report', () => {
    const r = runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180819']);
    expect(r.status).toBe(0);
    // Off a terminal, progress is plain lines on stderr; the last one is the whole night.
    expect(r.stderr).toMatch(/close 20180819\/1: 12\/12 alerts \(100%\)/);
    expect(r.stdout).toMatch(/^night 20180819 programid 1 closed: 12 alert\(s\), [\d.]+ MB → alerts\/public\/ztf_public_20180819\.tar\.gz \([\d.]+ MB, MD5 [0-9a-f]{32}\) in [\d.]+ s, [\d.]+ MB\/s\n$/);
    expect(run('tar', ['-tzf', join(t.dataDir, 'alerts/public/ztf_public_20180819.tar.gz')]).trim().split('\n')).toHaveLength(12);
  });

  it('prints JSON with --json, and says a closed night is closed', () => {
    const r = runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180820', '--program', '2', '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ night: '20180820', programid: 2, alerts: 0, closed: true, key: 'alerts/partnership/ztf_partnership_20180820.tar.gz' });
    const again = runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180820', '--program', '2']);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('is closed already');
  });

  it('fails clearly on an unknown night, a bad option and a folder without an archive', () => {
    const unknown = runZads(['archive', 'close', '--data', t.dataDir, '--night', '20990101']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('night 20990101 programid 1 is not in the catalogue');
    const neither = runZads(['archive', 'close', '--data', t.dataDir]);
    expect(neither.status).not.toBe(0);
    expect(neither.stderr).toContain('give either --night YYYYMMDD');
    const empty = mkdtempSync(join(tmpdir(), 'zads-empty-'));
    const none = runZads(['archive', 'close', '--data', empty, '--night', '20180819']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain(`no archive in ${empty}`);
  });

  it('takes the gzip level from --gzip-level, else from archive.closeGzipLevel (ZADS_CLOSE_GZIP_LEVEL), and refuses a bad one', () => {
    const tarball = join(t.dataDir, 'alerts/public/ztf_public_20180819.tar.gz');
    // Byte 8 of a gzip header (XFL) says how it was compressed: 2 at level 9, 4 at level 1, 0 otherwise.
    const xfl = (): number => readFileSync(tarball)[8]!;
    expect(runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180819', '--force'], { env: { ZADS_CLOSE_GZIP_LEVEL: '1' } }).status).toBe(0);
    expect(xfl()).toBe(4);
    expect(runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180819', '--force', '--gzip-level', '9'], { env: { ZADS_CLOSE_GZIP_LEVEL: '1' } }).status).toBe(0);
    expect(xfl()).toBe(2);
    expect(runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180819', '--force']).status).toBe(0);
    expect(xfl()).toBe(0);
    const bad = runZads(['archive', 'close', '--data', t.dataDir, '--night', '20180819', '--force'], { env: { ZADS_CLOSE_GZIP_LEVEL: '12' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('archive.closeGzipLevel');
    expect(run('tar', ['-tzf', tarball]).trim().split('\n')).toHaveLength(12);
  });

  it('closes every idle night with --all-idle', () => {
    const r = runZads(['archive', 'close', '--data', t.dataDir, '--all-idle', '--json'], { env: { ZADS_CLOSE_IDLE_MINUTES: '0' } });
    expect(r.status).toBe(0);
    // The two nights closed above are left alone; the one still open is closed.
    const out = JSON.parse(r.stdout) as { closed: { night: string; alerts: number }[]; failed: unknown[] };
    expect(out.closed.map((c) => `${c.night}:${c.alerts}`)).toEqual(['20180818:2']);
    expect(out.failed).toEqual([]);
    const none = runZads(['archive', 'close', '--data', t.dataDir, '--all-idle'], { env: { ZADS_CLOSE_IDLE_MINUTES: '0' } });
    expect(none.stdout).toBe('no night idle for 0 minutes\n');
  });
});
