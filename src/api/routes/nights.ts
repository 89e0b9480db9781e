import { z } from 'zod';
import { programFolder, tarballName } from '../../archive/index.ts';
import type { NightRow } from '../../archive/index.ts';
import type { ApiContext } from '../context.ts';
import { errors, jsonOf, ref } from '../openapi/common.ts';
import { queryNumber } from '../params.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';

/** A night as /v1/nights lists it. */
export function nightJson(n: NightRow) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    night: n.night,
    programid: n.programid,
    state: n.state,
    alerts: n.alerts,
    bytes: n.bytes,
    firstJd: n.firstJd,
    lastJd: n.lastJd,
    lastAlertAt: iso(n.lastAlertAt),
    closedAt: iso(n.closedAt),
    reopened: n.reopened,
    stored: n.stored,
    tarball:
      n.tarballKey === null
        ? null
        : {
            url: `/${programFolder(n.programid).folder}/${tarballName(n.night, n.programid)}`,
            bytes: n.tarballBytes,
            md5: n.tarballMd5,
            alerts: n.tarballAlerts,
          },
  };
}

const query = z
  .object({
    programid: queryNumber(z.number().int().min(0).max(9999)).optional().meta({ description: 'Only nights of this program.' }),
    state: z.enum(['open', 'closed']).optional().meta({ description: 'Only open or only closed nights.' }),
  })
  .strict();

export function nightRoutes(ctx: ApiContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/v1/nights',
      operationId: 'listNights',
      tag: 'bulk download',
      summary: 'The archived nights: alert counts, sizes, state, tarball md5 and where they are stored',
      access: 'read',
      query,
      responses: { '200': { description: 'Every night, oldest first.', content: jsonOf(ref('NightList')) }, ...errors(400) },
      handle({ query: q }, _req, res) {
        const nights = ctx.archive.catalogue
          .nights()
          .filter((n) => (q.programid === undefined || n.programid === q.programid) && (q.state === undefined || n.state === q.state))
          .map(nightJson);
        res.json({ count: nights.length, nights });
      },
    }),
  ];
}
