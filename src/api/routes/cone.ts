import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { errors, jsonOf, ref } from '../openapi/common.ts';
import { queryNumber } from '../params.ts';
import { coneSearch } from '../query/cone.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';

export function coneRoutes(ctx: ApiContext): AnyRoute[] {
  const maxRadius = ctx.config.maxConeRadiusDeg;
  const maxLimit = ctx.config.maxPageAlerts;
  return [
    route({
      method: 'get',
      path: '/v1/cone',
      operationId: 'coneSearch',
      tag: 'query',
      summary: `The alerts within a radius (at most ${maxRadius}°) of a sky position, nearest first`,
      description:
        'Exact angular distances (the sky index gives candidates in an RA/Dec box that follows RA across 0/360 and widens towards the poles). ' +
        `distanceArcsec is each alert's distance from the centre. At most \`limit\` alerts; \`truncated\` says whether more lay inside.`,
      access: 'read',
      query: z
        .object({
          ra: queryNumber(z.number().min(0).lt(360)).meta({ description: 'Right ascension of the centre, degrees (J2000), in [0, 360).' }),
          dec: queryNumber(z.number().min(-90).max(90)).meta({ description: 'Declination of the centre, degrees (J2000), in [-90, 90].' }),
          radius: queryNumber(z.number().positive().max(maxRadius)).meta({ description: `Radius, degrees; at most ${maxRadius} (config api.maxConeRadiusDeg).` }),
          limit: queryNumber(z.number().int().min(1).max(maxLimit)).default(Math.min(1000, maxLimit)).meta({ description: 'Most alerts returned.' }),
        })
        .strict(),
      responses: { '200': { description: 'The alerts in the cone.', content: jsonOf(ref('ConeResult')) }, ...errors(400) },
      handle({ query: q }, _req, res) {
        const { alerts, truncated } = coneSearch(ctx.archive.catalogue, q.ra, q.dec, q.radius, q.limit);
        res.json({ ra: q.ra, dec: q.dec, radiusDeg: q.radius, count: alerts.length, truncated, alerts });
      },
    }),
  ];
}
