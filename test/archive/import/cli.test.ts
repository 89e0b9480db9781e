import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../../src/archive/index.ts';
import { runZads } from '../../helpers/cli.ts';
import { SAMPLE_TARBALL } from '../../helpers/data.ts';

const dir = mkdtempSync(join(tmpdir(), 'zads-import-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zads archive import', () => {
  it('imports the real sample night, prints a JSON report of its 30 alerts and exits 0', () => {
    const r = runZads(['archive', 'import', '--data', join(dir, 'a'), SAMPLE_TARBALL, '--json']);
    expect(r.stderr).toMatch(/\[1\/1\] .*ztf_public_20180819_mod1000\.tar\.gz: night 20180819 programid 1: 30 alert\(s\)/);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as ImportReport;
    expect(report).toMatchObject({ files: 1, failed: 0, alerts: 30, inserted: 30, duplicates: 0, quarantined: 0 });
    expect(report.perFile[0]).toMatchObject({ night: '20180819', programid: 1, closed: false });
  });

  it('exits 1 naming a missing file, and still imports the others', () => {
    const missing = join(dir, 'ztf_public_20180820.tar.gz');
    const r = runZads(['archive', 'import', '--data', join(dir, 'b'), missing, SAMPLE_TARBALL]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`error: ${missing}: INPUT_NOT_FOUND: cannot read ${missing}: no such file or folder`);
    expect(r.stdout).toMatch(/imported 1 of 2 file\(s\): 30 alert\(s\) \(30 new, 0 duplicate\(s\)\).*1 file\(s\) failed/);
  });

  it('refuses --night without --program before touching the archive', () => {
    const r = runZads(['archive', 'import', '--data', join(dir, 'c'), '--night', '20180819', SAMPLE_TARBALL]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--night and --program go together/);
  });
});
