import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Router } from 'express';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/** The pages, by path; each is a static HTML file whose script reads the JSON API. */
const PAGES: ReadonlyArray<[path: string, file: string]> = [
  ['/', 'nights.html'],
  ['/nights', 'nights.html'],
  ['/objects/:objectId', 'object.html'],
  ['/search', 'search.html'],
  ['/replays', 'replays.html'],
];

/**
 * The web pages: plain HTML, our own scripts and uPlot, all served from this process. The pages are
 * clients of the public JSON API (/v1/...): they hold no data of their own, so what a page shows is what
 * any other client of the API would get. Assets change only with a release, hence a short cache.
 */
export function webPages(): Router {
  const router = express.Router({ caseSensitive: true, strict: false });
  const assets = { index: false, maxAge: '10m', fallthrough: false, dotfiles: 'deny' as const };
  router.use('/web/vendor', express.static(UPLOT_DIR, assets));
  router.use('/web', express.static(STATIC_DIR, assets));
  for (const [path, file] of PAGES) {
    router.get(path, (_req, res) => {
      res.set('Cache-Control', 'no-cache').sendFile(join(STATIC_DIR, file));
    });
  }
  return router;
}
