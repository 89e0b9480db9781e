import type { ApiContext } from '../context.ts';
import { jsonOf, ref } from '../openapi/common.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';

/** Health, metrics and the API's own description; open to all (no token), as probes and scrapers need. */
export function serviceRoutes(ctx: ApiContext, openApi: () => unknown): AnyRoute[] {
  const startedAt = Date.now();
  return [
    route({
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      tag: 'service',
      summary: 'Liveness and readiness: the catalogue answers',
      access: 'open',
      responses: {
        '200': { description: 'Healthy.', content: jsonOf(ref('Health')) },
        '503': { description: 'The catalogue does not answer.', content: jsonOf(ref('Health')) },
      },
      handle(_input, _req, res) {
        let catalogue = 'ok';
        try {
          ctx.archive.catalogue.ping();
        } catch (err) {
          catalogue = (err as Error).message;
        }
        res
          .status(catalogue === 'ok' ? 200 : 503)
          .set('Cache-Control', 'no-store')
          .json({ status: catalogue === 'ok' ? 'ok' : 'unavailable', catalogue, s3: ctx.archive.remote ? 'configured' : 'none', uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
      },
    }),
    route({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      tag: 'service',
      summary: 'Prometheus metrics: requests and latency by route, bytes sent, replays, process',
      access: 'open',
      responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
      async handle(_input, _req, res) {
        res.type(ctx.metrics.contentType).send(await ctx.metrics.metrics());
      },
    }),
    route({
      method: 'get',
      path: '/v1/openapi.json',
      operationId: 'openapi',
      tag: 'service',
      summary: 'This document',
      access: 'open',
      responses: { '200': { description: 'OpenAPI 3.1.', content: jsonOf({ type: 'object' }) } },
      handle(_input, _req, res) {
        res.json(openApi());
      },
    }),
  ];
}
