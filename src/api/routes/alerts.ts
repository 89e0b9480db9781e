import { z } from 'zod';
import { decodePayload, toJsonValue } from '../../alert/index.ts';
import type { AlertRow } from '../../archive/index.ts';
import { readAlertBytes } from '../alert-bytes.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errors, jsonOf, ref } from '../openapi/common.ts';
import { candid, night, programid, queryNumber, timeBound } from '../params.ts';
import { decodeCursor, encodeCursor, queryTag } from '../query/cursor.ts';
import { windowHasAlerts, windowLocations, windowPage } from '../query/window.ts';
import type { NightWindow } from '../query/window.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';
import { sendSubset } from '../subset.ts';

const AVRO_TYPES = ['application/avro', 'avro/binary'] as const;

/** The stored alert of a candid, or 404. */
export function alertOrNotFound(ctx: ApiContext, id: string): AlertRow {
  const row = ctx.archive.catalogue.alert(BigInt(id));
  if (!row) throw new ApiError('NOT_FOUND', `no alert with candid ${id}`);
  return row;
}

/** The decoded alert of a row (a stored message may in principle hold several: the one of this candid). */
export async function decodedAlert(ctx: ApiContext, row: AlertRow) {
  const bytes = await readAlertBytes(ctx.archive, row);
  const decoded = await decodePayload(bytes, { source: { member: `${row.candid}.avro` } });
  const one = decoded.find((d) => d.alert.candid === row.candid) ?? decoded[0];
  if (!one) throw new ApiError('INTERNAL', `the stored message of candid ${row.candid} holds no alert`);
  return { bytes, decoded: one };
}

const windowQuery = {
  night,
  programid,
  from: timeBound.optional().meta({ description: 'Only alerts with jd ≥ this: a Julian Date or a UTC ISO time.' }),
  to: timeBound.optional().meta({ description: 'Only alerts with jd < this: a Julian Date or a UTC ISO time.' }),
  fid: queryNumber(z.number().int().min(1).max(3)).optional().meta({ description: 'Only this filter: 1 g, 2 r, 3 i.' }),
};

function nightWindow(ctx: ApiContext, q: { night: string; programid: number; from?: number; to?: number; fid?: number }): NightWindow {
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to) throw new ApiError('INVALID_PARAMETER', 'from must be before to');
  if (!ctx.archive.catalogue.night(q.night, q.programid)) throw new ApiError('NOT_FOUND', `night ${q.night} programid ${q.programid} is not in the archive`);
  return { night: q.night, programid: q.programid, fromJd: q.from, toJd: q.to, fid: q.fid };
}

export function alertRoutes(ctx: ApiContext): AnyRoute[] {
  const maxLimit = ctx.config.maxPageAlerts;
  return [
    route({
      method: 'get',
      path: '/v1/alerts/:candid',
      operationId: 'getAlert',
      tag: 'query',
      summary: 'One alert: JSON (64-bit integers as strings), or its exact stored Avro bytes',
      description:
        'Content negotiation: `Accept: application/avro` (or `avro/binary`, or `format=avro`) gives the bytes exactly as archived, a single-alert ' +
        'Avro container file; otherwise JSON. Cutouts are left out of the JSON unless `cutouts=base64`; their images are at the `cutouts` URLs.',
      access: 'read',
      params: z.object({ candid }),
      query: z
        .object({
          format: z.enum(['json', 'avro']).optional().meta({ description: 'Overrides Accept.' }),
          cutouts: z.enum(['omit', 'base64']).default('omit').meta({ description: 'Whether the JSON carries the gzipped FITS cutouts as base64.' }),
        })
        .strict(),
      responses: {
        '200': { description: 'The alert.', content: { ...jsonOf(ref('AlertDocument')), 'application/avro': { schema: { type: 'string' } } } },
        ...errors(400, 404, 406),
      },
      async handle({ params: p, query: q }, req, res) {
        const row = alertOrNotFound(ctx, p.candid);
        const wanted = q.format ?? (req.accepts(['application/json', ...AVRO_TYPES]) || undefined);
        if (wanted === undefined) throw new ApiError('NOT_ACCEPTABLE', 'this alert is available as application/json or application/avro');
        res.vary('Accept').set('Cache-Control', 'public, max-age=86400');
        if (wanted !== 'json' && wanted !== 'application/json') {
          const bytes = await readAlertBytes(ctx.archive, row);
          res.type(wanted === 'avro' ? 'application/avro' : wanted).set('Content-Disposition', `inline; filename="${row.candid}.avro"`).send(bytes);
          return;
        }
        const { decoded } = await decodedAlert(ctx, row);
        const base = `/v1/alerts/${row.candid}/cutouts`;
        res.json({
          candid: row.candid.toString(),
          objectId: row.objectId,
          night: row.night,
          programid: row.programid,
          schemaVersion: decoded.schema.version,
          kafka: row.topic === null ? null : { topic: row.topic, partition: row.partition, offset: row.kafkaOffset?.toString() ?? null, timestamp: row.kafkaTimestamp },
          cutouts: Object.fromEntries(['science', 'template', 'difference'].map((k) => [k, { fits: `${base}/${k}.fits`, png: `${base}/${k}.png` }])),
          alert: toJsonValue(decoded.alert, { bytes: q.cutouts === 'base64' ? 'base64' : 'omit' }),
        });
      },
    }),
    route({
      method: 'get',
      path: '/v1/alerts',
      operationId: 'listAlerts',
      tag: 'query',
      summary: 'The alerts of a night (optionally a time range and a filter), a page at a time',
      description: `In (jd, candid) order. Pass the answer's nextCursor back as cursor for the next page (with the same other parameters); it is null on the last page. At most ${maxLimit} per page.`,
      access: 'read',
      query: z
        .object({
          ...windowQuery,
          limit: queryNumber(z.number().int().min(1).max(maxLimit)).default(Math.min(1000, maxLimit)).meta({ description: 'Alerts per page.' }),
          cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page.' }),
        })
        .strict(),
      responses: { '200': { description: 'One page.', content: jsonOf(ref('AlertPage')) }, ...errors(400, 404) },
      handle({ query: q }, _req, res) {
        const w = nightWindow(ctx, q);
        const tag = queryTag([w.night, w.programid, w.fromJd ?? null, w.toJd ?? null, w.fid ?? null]);
        const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, tag);
        const { rows, more } = windowPage(ctx.archive.catalogue, w, after, q.limit);
        const last = rows[rows.length - 1];
        const nextCursor = more && last ? encodeCursor({ jd: last.jd, candid: BigInt(last.candid) }, tag) : null;
        res.json({ night: w.night, programid: w.programid, count: rows.length, alerts: rows, nextCursor });
      },
    }),
    route({
      method: 'get',
      path: '/v1/alerts.tar.gz',
      operationId: 'getAlertsTarball',
      tag: 'subsets',
      summary: 'The alerts of a night (optionally a time range and a filter) as a tar.gz of <candid>.avro files, built on the fly',
      description: 'The same selection as /v1/alerts, every alert of it, in (jd, candid) order; exact stored bytes. Streamed without temporary files.',
      access: 'read',
      query: z.object(windowQuery).strict(),
      responses: { '200': { description: 'A gzipped tar.', content: { 'application/gzip': { schema: { type: 'string' } } } }, ...errors(400, 404) },
      async handle({ query: q }, _req, res) {
        const w = nightWindow(ctx, q);
        if (!windowHasAlerts(ctx.archive.catalogue, w)) throw new ApiError('NOT_FOUND', `no alerts of night ${w.night} programid ${w.programid} match`);
        await sendSubset(res, ctx.archive, windowLocations(ctx.archive.catalogue, w), {
          format: 'tar.gz',
          fileName: `ztf_${w.night}_programid${w.programid}_alerts.tar.gz`,
          logger: ctx.logger,
          onBytes: (n) => ctx.bytesSent('subset', n),
        });
      },
    }),
  ];
}
