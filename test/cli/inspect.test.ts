import { describe, expect, it } from 'vitest';
import { ALERTS_DIR, BROKEN_FILE, SAMPLE_TARBALL, TRAILING_GARBAGE_FILE, goodAlertFiles } from '../helpers/data.ts';
import { runZads } from '../helpers/cli.ts';

interface Line {
  candid: string;
  objectId: string;
  schemaVersion: string;
  source: { file?: string; member?: string };
}

function jsonLines(stdout: string): Line[] {
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

describe('zads inspect', () => {
  it('lists every alert of the real sample tarball with its candid and exits 0', () => {
    const r = runZads(['inspect', '--json', SAMPLE_TARBALL]);
    expect(r.status).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(30);
    for (const l of lines) {
      expect(l.source).toEqual({ file: SAMPLE_TARBALL, member: `${l.candid}.avro` });
      expect(l.objectId).toMatch(/^ZTF18[a-z]{7}$/);
      expect(l.schemaVersion).toBe('3.0');
    }
    expect(r.stderr).toMatch(/30 alert\(s\) from 30 file\(s\).*0 failure/);
  });

  it('gives the right candid for every shared alert, returns the first alert of the trailing-garbage file, and exits 1 naming the broken file', () => {
    const r = runZads(['inspect', '--json', ALERTS_DIR]);
    expect(r.status).toBe(1);
    const lines = jsonLines(r.stdout);
    const expected = goodAlertFiles();
    expect(lines.map((l) => l.candid).sort()).toEqual(expected.map((f) => f.candid).sort());
    for (const f of expected) {
      const line = lines.find((l) => l.source.file === f.path)!;
      expect(line.candid).toBe(f.candid);
      expect(line.schemaVersion).toBe(f.version);
    }
    expect(lines.find((l) => l.source.file === TRAILING_GARBAGE_FILE)?.objectId).toBe('ZTF21aapuacc');
    expect(r.stderr).toContain(BROKEN_FILE);
    expect(r.stderr).toMatch(/ALERT_CORRUPT/);
    expect(r.stderr).toMatch(/2 failure/);
  });

  it('prints a readable table by default', () => {
    const r = runZads(['inspect', goodAlertFiles()[0]!.path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^candid\s+objectId\s+jd/);
    expect(r.stdout).toMatch(/^396522680015040000 +ZTF18aagtxth +2458151\.02269 /m);
    expect(r.stdout).toMatch(/1 alert\(s\) from 1 file\(s\) \(1 of v1\.8\); 0 failure/);
  });

  it('says which path is missing and exits 1', () => {
    const r = runZads(['inspect', '/no/such/night.tar.gz']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/INPUT_NOT_FOUND.*\/no\/such\/night\.tar\.gz/);
  });

  it('refuses an unknown command with usage help', () => {
    const r = runZads(['inpsect', 'x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
