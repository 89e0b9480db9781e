import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ZadsError } from '../errors.ts';
import { PREDEFINED_FILTERS } from './predefined/index.ts';
import type { AlertFilter, LoadedFilter } from './types.ts';

/** A filter's name becomes part of a Kafka topic name, so it keeps to the characters topics allow. */
export const FILTER_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const MODULE_EXTENSIONS = /\.(ts|mts|cts|js|mjs|cjs)$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}

/**
 * Checks that `value` is a filter — `{ name, version, test }` — and returns it; otherwise throws
 * CONFIG_INVALID naming `where` (the module) and everything that is missing or wrong.
 */
export function checkFilter(value: unknown, where: string): AlertFilter {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    throw new ZadsError(
      'CONFIG_INVALID',
      `${where} exports no filter: it needs a default export (or an export named "filter") { name, version, test(alert) }, found ${describe(value)}`,
      { context: { file: where } },
    );
  }
  const f = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof f.name !== 'string' || !FILTER_NAME_PATTERN.test(f.name)) {
    problems.push(`"name" must be 1-64 of A-Z, a-z, 0-9, ".", "_", "-" (it names the output topic), found ${describe(f.name)}`);
  }
  if (typeof f.version !== 'string' || f.version.trim() === '') problems.push(`"version" must be a non-empty string, found ${describe(f.version)}`);
  if (typeof f.test !== 'function') problems.push(`"test" must be a function (alert, ctx) => boolean | Promise<boolean>, found ${describe(f.test)}`);
  if (problems.length > 0) {
    throw new ZadsError('CONFIG_INVALID', `${where}: the filter's ${problems.join('; ')}`, { context: { file: where } });
  }
  return value as AlertFilter;
}

function isModulePath(spec: string): boolean {
  return spec.includes('/') || spec.includes('\\') || MODULE_EXTENSIONS.test(spec);
}

/**
 * Loads one filter: a predefined one by name ("purity"), or a module by path (.ts or .js, relative to
 * `cwd`), whose default export — or export named `filter` — is the filter. TypeScript modules load
 * through tsx, which the `zads` command registers.
 */
export async function loadFilter(spec: string, options: { cwd?: string } = {}): Promise<LoadedFilter> {
  if (!isModulePath(spec)) {
    const known = PREDEFINED_FILTERS[spec];
    if (known) return { filter: known, spec };
    throw new ZadsError(
      'CONFIG_INVALID',
      `unknown filter ${JSON.stringify(spec)}: the predefined ones are ${Object.keys(PREDEFINED_FILTERS).join(', ')}; a module is given by its path (./my-filter.ts, ./my_filter.py)`,
      { context: { key: 'filter' } },
    );
  }
  const path = isAbsolute(spec) ? spec : resolve(options.cwd ?? process.cwd(), spec);
  if (/\.py$/i.test(spec)) {
    throw new ZadsError('CONFIG_INVALID', `${path} is a Python filter: Python filters run in their own processes, through createJudge (or PythonJudge), not loadFilter`, {
      context: { file: path },
    });
  }
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new ZadsError('INPUT_NOT_FOUND', `filter module ${path} does not exist (or is not a file)`, { context: { file: path } });
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ZadsError('CONFIG_INVALID', `cannot load filter module ${path}: ${(cause as Error).message}`, { cause, context: { file: path } });
  }
  return { filter: checkFilter(mod.default ?? mod.filter, path), spec: path };
}

/** Loads several filters; their names must differ, since each names an output. */
export async function loadFilters(specs: readonly string[], options: { cwd?: string } = {}): Promise<LoadedFilter[]> {
  if (specs.length === 0) throw new ZadsError('CONFIG_INVALID', 'no filter given: name a predefined filter or a module path', { context: { key: 'filter' } });
  const loaded: LoadedFilter[] = [];
  for (const spec of specs) {
    const next = await loadFilter(spec, options);
    const twin = loaded.find((l) => l.filter.name === next.filter.name);
    if (twin) {
      throw new ZadsError('CONFIG_INVALID', `two filters are named ${JSON.stringify(next.filter.name)} (${twin.spec} and ${next.spec}); names must differ, as each names an output`, {
        context: { key: 'filter' },
      });
    }
    loaded.push(next);
  }
  return loaded;
}
