import { readFileSync } from 'node:fs';
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Archive } from '../archive/index.ts';
import { configSchema } from '../config/index.ts';
import { ZadsError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createMetricsRegistry } from '../metrics.ts';
import { parseOptions, positive } from '../options.ts';
import type { Registry } from '../metrics.ts';
import { TokenAuth } from './auth.ts';
import type { ApiConfig, ApiContext } from './context.ts';
import { ApiError, errorBody, toHttpError } from './errors.ts';
import { httpMetrics } from './http-metrics.ts';
import { openApiDocument } from './openapi/document.ts';
import { parsePart } from './params.ts';
import { corsPolicy, rateLimiter, securityHeaders } from './protect.ts';
import type { ReplayRegistry } from './replays.ts';
import type { AnyRoute } from './route.ts';
import { alertRoutes } from './routes/alerts.ts';
import { bulkRoutes } from './routes/bulk.ts';
import { coneRoutes } from './routes/cone.ts';
import { cutoutRoutes } from './routes/cutouts.ts';
import { nightRoutes } from './routes/nights.ts';
import { objectRoutes } from './routes/objects.ts';
import { replayPolicyRoutes } from './routes/replay-policy.ts';
import { replayRoutes } from './routes/replays.ts';
import { serviceRoutes } from './routes/service.ts';
import { webPages } from './web/pages.ts';

/** Every default of {@link createApp}'s options (the `api` config section has its own, in the config schema). */
export const APP_DEFAULTS = Object.freeze({
  catalogueCacheMiB: 64,
  /** SQLite's cap. */
  catalogueMmapBytes: 2 ** 31,
});

export interface CreateAppOptions {
  /** The archive to serve, opened as a reader (`openArchive({ dataDir, s3 })`). Required. */
  archive: Archive;
  /** The `api` section of the config; missing keys take their defaults (config schema). */
  config?: Partial<ApiConfig>;
  /** Replay control. Default: none, the replay routes answer 503. */
  replays?: ReplayRegistry;
  /** SQLite page cache of the catalogue connection, in MiB. Default {@link APP_DEFAULTS.catalogueCacheMiB}. */
  catalogueCacheMiB?: number;
  /**
   * Bytes of the catalogue file SQLite reads through a memory map rather than read calls, in bytes (SQLite
   * caps this at 2 GiB). The objectId query touches a few dozen random table pages: mapped, they cost no
   * system call (measured: 150 → 90 µs a query on a 5 M-alert catalogue). 0 turns it off. Default {@link APP_DEFAULTS.catalogueMmapBytes}.
   */
  catalogueMmapBytes?: number;
  /** Where the API's metrics go (and what /metrics shows). Default: a new registry. */
  metrics?: Registry;
  /** Where the API logs. Default: nowhere. */
  logger?: Logger;
}

/** The options of the app it checks itself (the `api` config by `apiConfig`), with the defaults filled in. */
const appOptionsSchema = z.object({
  catalogueCacheMiB: positive().default(APP_DEFAULTS.catalogueCacheMiB),
  catalogueMmapBytes: positive({ allowZero: true }).default(APP_DEFAULTS.catalogueMmapBytes),
});

const NO_PARAMETERS = z.object({}).strict();
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The API's configuration with defaults filled in; throws CONFIG_INVALID naming a bad key. */
export function apiConfig(partial: Partial<ApiConfig> = {}): ApiConfig {
  const parsed = configSchema.safeParse({ api: partial });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ZadsError('CONFIG_INVALID', `invalid API configuration: ${problems.join('; ')}`, { context: { key: parsed.error.issues[0]?.path.join('.') } });
  }
  return parsed.data.api;
}

/** Every route of the API, in registration order. */
export function apiRoutes(ctx: ApiContext, openApi: () => unknown): AnyRoute[] {
  return [
    ...bulkRoutes(ctx),
    ...nightRoutes(ctx),
    ...objectRoutes(ctx),
    ...alertRoutes(ctx),
    ...cutoutRoutes(ctx),
    ...coneRoutes(ctx),
    ...replayRoutes(ctx),
    ...replayPolicyRoutes(ctx),
    ...serviceRoutes(ctx, openApi),
  ];
}

/**
 * The HTTP API as an express app: bulk downloads on the UW archive's paths, queries and subsets under
 * /v1, replay control behind bearer tokens, /metrics, /healthz and /v1/openapi.json. Every route
 * validates its parameters before it runs; every failure answers `{"error": {"code", "message"}}`.
 */
export function createApp(options: CreateAppOptions): Express {
  const config = apiConfig(options.config);
  const { catalogueCacheMiB, catalogueMmapBytes } = parseOptions('API', appOptionsSchema, options);
  const metrics = options.metrics ?? createMetricsRegistry();
  // Tuning of this process's connection only; the catalogue file is not changed.
  options.archive.catalogue.tuneReads({ cacheMiB: catalogueCacheMiB, mmapBytes: catalogueMmapBytes });
  const logger = options.logger?.child({ component: 'api' });
  const measure = httpMetrics(metrics);
  const ctx: ApiContext = { archive: options.archive, config, replays: options.replays, metrics, logger, bytesSent: measure.bytesSent };
  const auth = new TokenAuth(config.tokens);
  // The document describes the routes, and one route serves it: it is called only once both exist.
  const routes = apiRoutes(ctx, () => document);
  const document = openApiDocument(routes, config, VERSION);

  const app = express();
  app.disable('x-powered-by');
  // JSON answers are cheap to recompute; bulk files carry their own strong ETags.
  app.set('etag', false);
  app.set('case sensitive routing', true);
  app.use(measure.middleware);
  // Every answer, errors included, carries the security headers (X-Content-Type-Options: nosniff among them).
  app.use(securityHeaders());
  const crossOrigin = corsPolicy(config);
  if (crossOrigin) app.use(crossOrigin);
  const limiter = rateLimiter(config, auth);
  if (limiter) app.use(limiter);

  const jsonBody = express.json({ limit: config.maxBodyBytes, type: () => true, strict: true });
  for (const r of routes) {
    const authorize = (req: Request): string | undefined => auth.authorize(req.get('authorization'), r.access, config.publicReads);
    const run = async (req: Request, res: Response, caller: string | undefined): Promise<void> => {
      const input = {
        params: parsePart(r.params ?? z.object({}), req.params, 'path'),
        query: parsePart(r.query ?? NO_PARAMETERS, req.query, 'query'),
        body: r.body ? parsePart(r.body, req.body, 'body') : undefined,
        caller,
      };
      await r.handle(input, req, res);
    };
    if (!r.body) {
      // One layer per route: every express layer costs a little on the hottest routes.
      app[r.method](r.path, (req: Request, res: Response) => run(req, res, authorize(req)));
      continue;
    }
    // A body is read only from a caller allowed to send it, and only as JSON.
    const gate: RequestHandler = (req, res, next) => {
      res.locals.caller = authorize(req);
      // false: a body of another type (null: no body at all, which the schema then refuses).
      if (req.is('application/json') === false) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
      next();
    };
    app[r.method](r.path, gate, jsonBody, (req: Request, res: Response) => run(req, res, res.locals.caller as string | undefined));
  }

  if (config.webPages) app.use(webPages());

  app.use((req: Request, res: Response) => {
    res.status(404).json(errorBody({ code: 'ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.path}; see /v1/openapi.json` }));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toHttpError(err);
    if (e.serverSide) logger?.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(e.status).set(e.headers).json(errorBody(e));
  });
  return app;
}
