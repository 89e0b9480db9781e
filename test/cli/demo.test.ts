import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runZads } from '../helpers/cli.ts';

describe('zads demo (short mode)', () => {
  it('runs the whole chain and prints each stage\'s rate and the URLs', () => {
    const data = mkdtempSync(join(tmpdir(), 'zads-demo-'));
    const r = runZads(['demo', '--alerts', '300', '--night', '20240112', '--data', data, '--port', '0', '--replay-rate', '500', '--exit'], { timeoutMs: 600_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(/ZADS-TS demo — night 20240112, 300 alerts/);
    for (const stage of ['produce \\(ipac\\)', 'mirror \\+ archive', 'night close', 'replay \\(requested 500/s\\)']) {
      expect(r.stdout).toMatch(new RegExp(`${stage}[^\\n]*?\\s+300 alerts\\s+[\\d.]+ s\\s+\\d+ alerts/s`));
    }
    expect(r.stdout).toMatch(/night tarball\s+http:\/\/127\.0\.0\.1:\d+\/alerts\/public\/ztf_public_20240112\.tar\.gz/);
  });
});
