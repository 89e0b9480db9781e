import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { fitsBytes, readFits } from '../fits.ts';
import { errors } from '../openapi/common.ts';
import { candid } from '../params.ts';
import { toPng } from '../png.ts';
import { route } from '../route.ts';
import type { AnyRoute } from '../route.ts';
import { alertOrNotFound, decodedAlert } from './alerts.ts';

const FIELDS = { science: 'cutoutScience', template: 'cutoutTemplate', difference: 'cutoutDifference' } as const;

export function cutoutRoutes(ctx: ApiContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/v1/alerts/:candid/cutouts/:kind.:format',
      operationId: 'getCutout',
      tag: 'query',
      summary: 'A cutout image of an alert: the FITS file, or a PNG for the eye',
      description:
        'fits: the FITS image as ZTF made it (63×63, BITPIX -32), un-gzipped. png: 8-bit grey, clipped at the 0.5 and 99.5 percentiles, ' +
        'asinh-stretched, north up as FITS row order gives it (the first FITS row at the bottom).',
      access: 'read',
      params: z.object({
        candid,
        kind: z.enum(['science', 'template', 'difference']).meta({ description: 'Which cutout.' }),
        format: z.enum(['fits', 'png']).meta({ description: 'fits or png.' }),
      }),
      responses: {
        '200': { description: 'The image.', content: { 'application/fits': { schema: { type: 'string' } }, 'image/png': { schema: { type: 'string' } } } },
        ...errors(400, 404),
      },
      async handle({ params: p }, _req, res) {
        const row = alertOrNotFound(ctx, p.candid);
        const { decoded } = await decodedAlert(ctx, row);
        const stamp = decoded.alert[FIELDS[p.kind]];
        if (!stamp?.stampData || stamp.stampData.length === 0) throw new ApiError('NOT_FOUND', `alert ${p.candid} has no ${p.kind} cutout`);
        const fits = fitsBytes(stamp.stampData);
        res.set('Cache-Control', 'public, max-age=86400');
        if (p.format === 'fits') {
          res.type('application/fits').set('Content-Disposition', `inline; filename="${p.candid}_${p.kind}.fits"`).send(fits);
          return;
        }
        res.type('image/png').send(toPng(readFits(fits)));
      },
    }),
  ];
}
