import { z } from 'zod';
import { md5sumsKey, programFolder, tarballKey } from '../../archive/index.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { errors } from '../openapi/common.ts';
import { route } from '../route.ts';
import type { AnyRoute, ResponseDoc } from '../route.ts';
import { locate, sendObject } from '../send-object.ts';

/**
 * The UW public archive's paths: `/alerts/public/ztf_public_YYYYMMDD.tar.gz`, `/alerts/partnership/…`,
 * `/alerts/programidN/…` and `MD5SUMS` in each. The file name is checked against those exact forms and
 * the storage key rebuilt from the night and programid it names, so no URL can reach any other file.
 */
const FOLDERS: Record<string, number> = { public: 1, partnership: 2 };

function folderProgram(folder: string): number | undefined {
  if (Object.hasOwn(FOLDERS, folder)) return FOLDERS[folder];
  const m = /^programid([0-9]{1,4})$/.exec(folder);
  return m && Number(m[1]) > 2 ? Number(m[1]) : undefined;
}

/** The storage key of a bulk file URL, or undefined when the URL names no bulk file. */
export function bulkKey(folder: string, file: string): { key: string; kind: 'tarball' | 'md5sums'; night?: string; programid: number } | undefined {
  const programid = folderProgram(folder);
  if (programid === undefined) return undefined;
  if (file === 'MD5SUMS') return { key: md5sumsKey(programid), kind: 'md5sums', programid };
  const prefix = programFolder(programid).prefix;
  const m = /^([a-z0-9_]+)_(\d{8})\.tar\.gz$/.exec(file);
  if (!m || m[1] !== prefix) return undefined;
  return { key: tarballKey(m[2]!, programid), kind: 'tarball', night: m[2]!, programid };
}

const params = z.object({
  folder: z.string().meta({ description: 'public (programid 1), partnership (programid 2) or programidN.', examples: ['public'] }),
  file: z.string().meta({ description: 'ztf_public_YYYYMMDD.tar.gz (ztf_partnership_…, ztf_programidN_…) or MD5SUMS.', examples: ['ztf_public_20180819.tar.gz'] }),
});

const ok: ResponseDoc = {
  description: 'The file (a gzipped tar of `<candid>.avro` single-alert container files), or the MD5SUMS list as `md5sum` writes it.',
  content: { 'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } }, 'text/plain': { schema: { type: 'string' } } },
  headers: {
    ETag: { description: 'Strong validator; send it back in If-Range or If-None-Match.', schema: { type: 'string' } },
    'Accept-Ranges': { description: 'Always "bytes".', schema: { type: 'string' } },
    'Content-Length': { description: 'Bytes in this answer.', schema: { type: 'integer' } },
  },
};

export function bulkRoutes(ctx: ApiContext): AnyRoute[] {
  return [
    route({
      method: 'get',
      head: true,
      path: '/alerts/:folder/:file',
      operationId: 'getBulkFile',
      tag: 'bulk download',
      summary: 'A night tarball or a folder MD5SUMS, resumable',
      description:
        'Paths as in the UW public ZTF alert archive. One byte range per request (`Range: bytes=start-`, `bytes=a-b`, `bytes=-n`): ' +
        '206 with Content-Range, or 416 past the end. `If-Range`, `If-None-Match` (304), `If-Match` (412) and `If-Modified-Since` are honoured. ' +
        'Served from the data folder, or streamed from S3 for nights pruned from local disk.',
      access: 'read',
      params,
      responses: {
        '200': ok,
        '206': { description: 'The requested byte range (Content-Range says which).', content: { 'application/gzip': { schema: { type: 'string' } } } },
        '304': { description: 'Not modified (If-None-Match / If-Modified-Since).' },
        ...errors(404, 412, 416),
      },
      async handle({ params: p }, req, res) {
        const target = bulkKey(p.folder, p.file);
        if (!target) throw new ApiError('NOT_FOUND', `no bulk file ${p.folder}/${p.file}`);
        const found = await locate(ctx.archive, target.key);
        if (!found) {
          const row = target.night ? ctx.archive.catalogue.night(target.night, target.programid) : undefined;
          const why = row?.state === 'open' ? ` (night ${target.night} is open: its tarball is written when it closes)` : '';
          throw new ApiError('NOT_FOUND', `no file ${p.folder}/${p.file}${why}`);
        }
        await sendObject(req, res, ctx.archive, found, {
          contentType: target.kind === 'tarball' ? 'application/gzip' : 'text/plain; charset=utf-8',
          logger: ctx.logger,
          onBytes: (n) => ctx.bytesSent(target.kind, n),
        });
      },
    }),
  ];
}
