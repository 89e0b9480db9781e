import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runZads } from '../helpers/cli.ts';

describe('--topics of the long-running commands', () => {
  const data = mkdtempSync(join(tmpdir(), 'zads-topics-option-'));
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  // Each command refuses a pattern that is no regular expression before it connects to anything: one line
  // naming the flag, the usage exit code, no stack trace.
  for (const args of [
    ['mirror', '--topics', 'ztf_(2024'],
    ['archive', 'run', '--data', data, '--no-schedule', '--topics', 'ztf_(2024'],
    ['filter', '--filter', 'purity', '--topics', 'ztf_(2024'],
  ]) {
    it(`zads ${args.slice(0, args[0] === 'archive' ? 2 : 1).join(' ')} names a bad pattern`, () => {
      const r = runZads(args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--topics is not a valid regular expression: .*Unterminated group/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
