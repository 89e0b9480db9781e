import { z } from 'zod';
import type { ApiConfig } from '../context.ts';
import { openApiPath } from '../route.ts';
import type { AnyRoute, ResponseDoc } from '../route.ts';
import { errors } from './common.ts';
import { componentSchemas, jsonSchemaOf } from './schemas.ts';

type Json = Record<string, unknown>;

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const { description, ...json } = jsonSchemaOf(field);
    const absent = field.safeParse(undefined);
    // A default behind a preprocessing step does not show in the input schema: take it from the schema itself.
    if (absent.success && absent.data !== undefined && json.default === undefined) json.default = absent.data;
    return {
      name,
      in: where,
      required: where === 'path' || !absent.success,
      ...(description === undefined ? {} : { description }),
      schema: json,
    };
  });
}

function withoutBodies(responses: Record<string, ResponseDoc>): Record<string, ResponseDoc> {
  return Object.fromEntries(Object.entries(responses).map(([status, r]) => [status, { description: r.description, ...(r.headers ? { headers: r.headers } : {}) }]));
}

/**
 * The answers any route can give besides its own: 400 (an unknown query parameter, a request HTTP cannot
 * parse), 401 (a malformed or unknown bearer token is refused even where none is needed), 403 where a role
 * is needed, 429 with the rate limit on, 431 (headers too large).
 */
function withCommonErrors(r: AnyRoute, config: ApiConfig, secured: boolean): Record<string, ResponseDoc> {
  const common = { ...errors(400, 401), ...(secured ? errors(403) : {}), ...(config.rateLimit.maxRequests > 0 ? errors(429) : {}), ...errors(431) };
  const all: Record<string, ResponseDoc> = { ...r.responses };
  for (const [status, doc] of Object.entries(common)) all[status] ??= doc;
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => Number(a) - Number(b)));
}

function operation(r: AnyRoute, config: ApiConfig, head: boolean): Json {
  const secured = r.access === 'replay' || r.access === 'admin' || (r.access === 'read' && !config.publicReads);
  return {
    operationId: head ? `${r.operationId}Head` : r.operationId,
    summary: head ? `${r.summary} (headers only)` : r.summary,
    ...(r.description ? { description: r.description } : {}),
    tags: [r.tag],
    parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(r.body) } } } } : {}),
    responses: head ? withoutBodies(withCommonErrors(r, config, secured)) : withCommonErrors(r, config, secured),
    security: secured ? [{ bearer: [] }] : [],
  };
}

/**
 * The OpenAPI 3.1 document of the routes, written from the very objects the app registers: paths,
 * parameters (their zod schemas as JSON Schema), bodies, access and responses.
 */
export function openApiDocument(routes: readonly AnyRoute[], config: ApiConfig, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const item = (paths[openApiPath(r.path)] ??= {});
    item[r.method] = operation(r, config, false);
    if (r.head) item.head = operation(r, config, true);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ZADS-TS alert archive',
      version,
      summary: 'Bulk download of nights, queries by objectId, candid, sky position and time, and replay control of an archived ZTF alert stream.',
      description:
        'Reads are ' +
        (config.publicReads ? 'public' : 'for bearer tokens with the "read" role') +
        '; replay control needs a bearer token with the "replay" role. Every error answers `{"error": {"code", "message"}}`. ' +
        'Every 64-bit integer (candid, pid, Kafka offsets) is written as a decimal string. Unknown query parameters are refused (400), so a typo never passes unnoticed.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [
      { name: 'bulk download', description: 'Whole nights, as the UW public archive serves them.' },
      { name: 'subsets', description: 'Archives of chosen alerts, built on the fly.' },
      { name: 'query', description: 'Light curves, single alerts, cutouts, cone search, time windows.' },
      { name: 'replay', description: 'Re-publishing archived nights to Kafka.' },
      { name: 'service', description: 'Health, metrics and this document.' },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from the config api.tokens (stored there as its SHA-256).' } },
    },
  };
}
