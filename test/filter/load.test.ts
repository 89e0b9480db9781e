import { describe, expect, it } from 'vitest';
import { isZadsError } from '../../src/errors.ts';
import { loadFilter, loadFilters, purity } from '../../src/filter/index.ts';
import { fixture, tarballAlerts } from './helpers.ts';

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isZadsError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('loading filter modules', () => {
  it('finds predefined filters by name', async () => {
    expect((await loadFilter('purity')).filter).toBe(purity);
  });

  it('loads a TypeScript module by path (default export) and runs it', async () => {
    const { filter, spec } = await loadFilter(fixture('odd-candid.ts'));
    expect(filter).toMatchObject({ name: 'odd-candid', version: '2.1.0' });
    expect(spec).toBe(fixture('odd-candid.ts'));
    const [a] = await tarballAlerts();
    expect(await filter.test(a!.decoded.alert, { source: {}, signal: new AbortController().signal })).toBe(a!.decoded.alert.candid % 2n === 1n);
  });

  it('loads a JavaScript module with a named export "filter", relative to cwd', async () => {
    const { filter } = await loadFilter('./named-export.js', { cwd: fixture('') });
    expect(filter).toMatchObject({ name: 'faint', version: '1.0.0' });
  });

  it('names the file and everything missing when the shape is wrong', async () => {
    const bad = await failure(loadFilter(fixture('bad-shape.ts')));
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.message).toContain(fixture('bad-shape.ts'));
    expect(bad.message).toContain('"name" must be 1-64 of');
    expect(bad.message).toContain('"version" must be a non-empty string, found undefined');
    expect(bad.message).toContain('"test" must be a function');
    const none = await failure(loadFilter(fixture('no-export.ts')));
    expect(none.message).toContain(`${fixture('no-export.ts')} exports no filter: it needs a default export (or an export named "filter")`);
  });

  it('reports a module that does not load, a missing file and an unknown name', async () => {
    const broken = await failure(loadFilter(fixture('fails-on-load.ts')));
    expect(broken.code).toBe('CONFIG_INVALID');
    expect(broken.message).toBe(`cannot load filter module ${fixture('fails-on-load.ts')}: cannot start: FILTER_API_KEY is not set`);
    const missing = await failure(loadFilter('./nowhere/my-filter.ts'));
    expect(missing.code).toBe('INPUT_NOT_FOUND');
    expect(missing.message).toMatch(/filter module .*nowhere\/my-filter\.ts does not exist/);
    const unknown = await failure(loadFilter('purest'));
    expect(unknown.message).toContain('unknown filter "purest": the predefined ones are purity, extragalactic, bright, solar-system');
  });

  it('refuses two filters of one name (they would share an output)', async () => {
    const twice = await failure(loadFilters(['purity', 'bright', 'purity']));
    expect(twice.message).toContain('two filters are named "purity"');
    expect((await loadFilters(['purity', fixture('throws.ts')])).map((l) => l.filter.name)).toEqual(['purity', 'throws']);
  });
});

describe('the README example filter', () => {
  it('loads and passes what its doc comment says', async () => {
    const { filter } = await loadFilter(fixture('new-transient.ts'));
    const alerts = await tarballAlerts();
    const ctx = { source: {}, signal: new AbortController().signal };
    const expected = alerts.filter((a) => {
      const c = a.decoded.alert.candidate as Record<string, unknown>;
      return c.isdiffpos === 't' && (c.rb as number) >= 0.5 && (c.jd as number) - (c.jdstarthist as number) < 5;
    });
    const got = [];
    for (const a of alerts) if (await filter.test(a.decoded.alert, ctx)) got.push(a);
    expect(got.map((a) => a.candid)).toEqual(expected.map((a) => a.candid));
    expect(got.length).toBeGreaterThan(0);
  });
});
