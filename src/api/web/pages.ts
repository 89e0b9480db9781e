import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Router } from 'express';
import { JD_UNIX_EPOCH } from '../../alert/index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const STATIC_DIR = join(HERE, 'static');
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

interface Page {
  paths: string[];
  title: string;
  /** The page's content: pages/<name>.html (the part inside <main>), and its script static/<name>.js. */
  name: string;
  /** Whether it draws charts (loads uPlot). */
  charts: boolean;
}

const PAGES: readonly Page[] = [
  { paths: ['/', '/nights'], title: 'Nights', name: 'nights', charts: false },
  { paths: ['/objects/:objectId'], title: 'Object', name: 'object', charts: true },
  { paths: ['/search'], title: 'Search', name: 'search', charts: false },
  { paths: ['/replays'], title: 'Replays', name: 'replays', charts: true },
];

/** One page: the shared head and navigation around its content; scripts and styles from this server only. */
function render(page: Page): string {
  const content = readFileSync(join(HERE, 'pages', `${page.name}.html`), 'utf8');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · ZADS-TS</title>
<link rel="stylesheet" href="/web/style.css">
${page.charts ? '<link rel="stylesheet" href="/web/vendor/uPlot.min.css">\n' : ''}</head>
<body>
<header>
  <span class="brand">ZADS-TS</span>
  <nav><a href="/">Nights</a><a href="/search">Search</a><a href="/replays">Replays</a><a href="/v1/openapi.json">API</a></nav>
</header>
<main>
${content}</main>
${page.charts ? '<script src="/web/vendor/uPlot.iife.min.js"></script>\n' : ''}<script type="module" src="/web/${page.name}.js"></script>
</body>
</html>
`;
}

/**
 * The web pages: plain HTML, our own scripts and uPlot, all served from this process. The pages are
 * clients of the public JSON API (/v1/...): they hold no data of their own, so what a page shows is what
 * any other client of the API would get. Assets change only with a release, hence a short cache.
 */
export function webPages(): Router {
  const router = express.Router({ caseSensitive: true, strict: false });
  const assets = { index: false, maxAge: '10m', fallthrough: false, dotfiles: 'deny' as const };
  // Other methods go on to the API's JSON 404: serve-static would answer them a bare 405 (found by fuzzing).
  router.use('/web', (req, _res, next) => next(req.method === 'GET' || req.method === 'HEAD' ? undefined : 'router'));
  router.use('/web/vendor', express.static(UPLOT_DIR, assets));
  // The pages' time constants, from the one JD ↔ time module (browser code cannot import TypeScript).
  router.get('/web/time.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=600').type('text/javascript').send(`export const JD_UNIX_EPOCH = ${JD_UNIX_EPOCH};\n`);
  });
  router.use('/web', express.static(STATIC_DIR, assets));
  for (const page of PAGES) {
    const html = render(page);
    for (const path of page.paths) {
      router.get(path, (_req, res) => {
        res.set('Cache-Control', 'no-cache').type('html').send(html);
      });
    }
  }
  return router;
}
