import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runZads } from './helpers/cli.ts';

/*
 * The README's ```console blocks are run here: each `$ npm run -s zads -- <args>` line is executed and
 * its output must be exactly the lines that follow it, so the README cannot drift from the code.
 */
interface Example {
  args: string[];
  expected: string;
}

function examples(): Example[] {
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8');
  const out: Example[] = [];
  for (const block of readme.matchAll(/```console\n([\s\S]*?)```/g)) {
    const lines = block[1]!.split('\n');
    let current: Example | undefined;
    for (const line of lines) {
      const m = /^\$ npm run -s zads -- (.*)$/.exec(line);
      if (m) {
        current = { args: m[1]!.split(/\s+/), expected: '' };
        out.push(current);
      } else if (current && line !== '') {
        current.expected += `${line}\n`;
      }
    }
  }
  return out;
}

describe('README examples', () => {
  const found = examples();

  it('has examples to check', () => {
    expect(found.length).toBeGreaterThan(0);
  });

  for (const example of found) {
    it(`zads ${example.args.join(' ')}`, () => {
      const r = runZads(example.args);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(example.expected);
    });
  }
});
