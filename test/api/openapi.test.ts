import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { createApp, hashToken, listen } from '../../src/api/index.ts';
import type { RunningServer } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { buildArchive } from './fixture.ts';
import type { ApiArchive } from './fixture.ts';

const ADMIN = 'openapi-test-admin-token';
const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'] as const;

interface Operation {
  operationId: string;
  parameters: { name: string; in: 'path' | 'query'; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security: unknown[];
}
type Doc = { openapi: string; paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>; components: { schemas: Record<string, unknown> } };

/** Express's route table: every path and its methods (express answers HEAD with the GET route). */
function routeTable(app: Express): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  const stack = (app.router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }).stack;
  for (const layer of stack) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:([A-Za-z_$][\w$]*)/g, '{$1}');
    const methods = table.get(path) ?? new Set<string>();
    for (const [m, on] of Object.entries(layer.route.methods)) if (on) methods.add(m);
    table.set(path, methods);
  }
  return table;
}

/** A value a parameter accepts, from its documented schema. */
function sample(p: Operation['parameters'][number]): string {
  const s = p.schema;
  if (Array.isArray(s.examples) && s.examples.length > 0) return String(s.examples[0]);
  if (Array.isArray(s.enum)) return String(s.enum[0]);
  if (s.type === 'number' || s.type === 'integer') return String(s.minimum ?? (typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 0.01 : 1));
  return 'x';
}

describe('the OpenAPI document matches the routes', () => {
  let data: ApiArchive;
  let archive: Archive;
  let app: Express;
  let server: RunningServer;
  let doc: Doc;

  beforeAll(async () => {
    data = await buildArchive();
    archive = await openArchive({ dataDir: data.dataDir });
    app = createApp({ archive, config: { maxConeRadiusDeg: 0.75, tokens: [{ name: 'admin', sha256: hashToken(ADMIN), roles: ['admin'] }] } });
    server = await listen(app, { host: '127.0.0.1', port: 0 });
    doc = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as Doc;
  });

  afterAll(async () => {
    await server?.close(500);
    await archive?.close();
    data?.cleanup();
  });

  it('is OpenAPI 3.1 and every $ref resolves', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const r of refs) expect(doc.components.schemas, r).toHaveProperty(r);
  });

  it('every route of express is in the document, with its methods, and nothing else is', () => {
    const table = routeTable(app);
    expect(table.size).toBeGreaterThan(10);
    for (const [path, methods] of table) {
      const item = doc.paths[path];
      expect(item, `route ${path} is not documented`).toBeDefined();
      for (const m of methods) expect(item![m as 'get'], `${m.toUpperCase()} ${path} is not documented`).toBeDefined();
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      const methods = table.get(path);
      expect(methods, `documented ${path} has no route`).toBeDefined();
      for (const m of METHODS) {
        if (!item[m]) continue;
        expect(methods!.has(m === 'head' ? 'get' : m), `documented ${m.toUpperCase()} ${path} has no route`).toBe(true);
      }
    }
  });

  it('every documented operation is served: its path with documented parameter values reaches the route', async () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        let url = path;
        const query = new URLSearchParams();
        for (const p of op.parameters) {
          if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(sample(p)));
          else if (p.required) query.set(p.name, sample(p));
        }
        expect(url, `${path}: a path parameter is not documented`).not.toMatch(/[{}]/);
        const res = await fetch(`${server.url}${url}${query.size ? `?${query}` : ''}`, {
          method: m.toUpperCase(),
          headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
          body: m === 'post' ? '{}' : undefined,
        });
        const text = m === 'head' ? '' : await res.text();
        expect(text, `${m.toUpperCase()} ${url}`).not.toContain('ROUTE_NOT_FOUND');
        expect(Object.keys(op.responses), `${m.toUpperCase()} ${path} answered ${res.status}, not documented`).toContain(String(res.status));
      }
    }
  });

  it('documents the cone radius cap from the config, the query parameters each route takes, and the bearer scheme', () => {
    const cone = doc.paths['/v1/cone']!.get!;
    const radius = cone.parameters.find((p) => p.name === 'radius')!;
    expect(radius).toMatchObject({ in: 'query', required: true, schema: { type: 'number', maximum: 0.75 } });
    expect(cone.parameters.map((p) => p.name).sort()).toEqual(['dec', 'limit', 'ra', 'radius']);
    expect(doc.paths['/v1/replays']!.post!.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/v1/replays']!.post!.requestBody).toBeDefined();
    expect(doc.paths['/alerts/{folder}/{file}']!.head).toBeDefined();
  });
});
