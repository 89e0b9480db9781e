import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errors, jsonOf, ref } from '../openapi/common.ts';
import { nameList, objectId } from '../params.ts';
import { objectLocations, objectRows } from '../query/object.ts';
import { ROW_FIELDS, pick, toCsv } from '../query/rows.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';
import { sendSubset } from '../subset.ts';
import type { SubsetFormat } from '../subset.ts';

const params = z.object({ objectId });

const lightCurveQuery = z
  .object({
    format: z.enum(['json', 'csv']).default('json').meta({ description: 'json (default) or csv (a header line, then a line per alert).' }),
    fields: nameList(ROW_FIELDS, 'field').optional(),
  })
  .strict();

function subsetRoute(ctx: ApiContext, format: SubsetFormat) {
  return route({
    method: 'get',
    path: `/v1/objects/:objectId/alerts.${format}`,
    operationId: format === 'zip' ? 'getObjectAlertsZip' : 'getObjectAlertsTarball',
    tag: 'subsets',
    summary: `Every alert of an object as a ${format} of <candid>.avro files, built on the fly`,
    description: 'Members are the exact stored bytes of each alert (single-alert Avro container files), in time order. Streamed: nothing is written to disk.',
    access: 'read',
    params,
    responses: {
      '200': { description: `A ${format} archive.`, content: { [format === 'zip' ? 'application/zip' : 'application/gzip']: { schema: { type: 'string' } } } },
      ...errors(400, 404),
    },
    async handle({ params: p }, _req, res) {
      const rows = objectLocations(ctx.archive.catalogue, p.objectId);
      if (rows.length === 0) throw new ApiError('NOT_FOUND', `no alerts of object ${p.objectId}`);
      await sendSubset(res, ctx.archive, [rows], {
        format,
        fileName: `${p.objectId}_alerts.${format}`,
        logger: ctx.logger,
        onBytes: (n) => ctx.bytesSent('subset', n),
      });
    },
  });
}

export function objectRoutes(ctx: ApiContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/v1/objects/:objectId',
      operationId: 'getObject',
      tag: 'query',
      summary: "An object's light curve: every alert of it across all nights",
      description: 'One row per alert, in time order (jd, then candid). candid is a decimal string.',
      access: 'read',
      params,
      query: lightCurveQuery,
      responses: {
        '200': { description: 'The light curve.', content: { ...jsonOf(ref('LightCurve')), 'text/csv': { schema: { type: 'string' } } } },
        ...errors(400, 404),
      },
      handle({ params: p, query: q }, _req, res) {
        const rows = objectRows(ctx.archive.catalogue, p.objectId);
        if (rows.length === 0) throw new ApiError('NOT_FOUND', `no alerts of object ${p.objectId}`);
        if (q.format === 'csv') {
          res.type('text/csv; charset=utf-8').send(toCsv(rows, q.fields ?? ROW_FIELDS));
          return;
        }
        res.json({ objectId: p.objectId, count: rows.length, alerts: q.fields ? rows.map((r) => pick(r, q.fields)) : rows });
      },
    }),
    subsetRoute(ctx, 'tar.gz'),
    subsetRoute(ctx, 'zip'),
  ];
}
