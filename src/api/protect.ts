import cors from 'cors';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { TokenAuth } from './auth.ts';
import type { ApiConfig } from './context.ts';
import { errorBody } from './errors.ts';

/** Paths a monitoring system polls; never rate limited. */
const UNLIMITED = new Set(['/healthz', '/metrics']);

/**
 * Security headers on every answer (helmet). The pages load only our own scripts and styles, so the
 * content security policy allows nothing else; inline styles stay allowed because uPlot sizes its
 * elements with them. Resources may be embedded cross-origin (a broker's page showing our cutout PNGs).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'object-src': ["'none'"],
        'frame-ancestors': ["'none'"],
        // The server is often reached over plain HTTP on a private network; upgrading would break it.
        'upgrade-insecure-requests': null,
      },
    },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * CORS: only the origins in api.corsOrigins (or any, with "*") may call the API from a browser; never with
 * credentials. Headers a client needs to resume downloads and follow replays are exposed.
 */
export function corsPolicy(config: ApiConfig): RequestHandler | undefined {
  if (config.corsOrigins.length === 0) return undefined;
  const any = config.corsOrigins.includes('*');
  return cors({
    origin: any ? '*' : config.corsOrigins,
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Range', 'If-Match', 'If-None-Match', 'If-Range', 'Accept'],
    exposedHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag', 'Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
    credentials: false,
    maxAge: 600,
  });
}

/**
 * Per-client rate limit: a client is its bearer token (by its configured name), or its IP address when it
 * sends none (or a bad one, which the route then refuses). Beyond the limit: 429 with Retry-After and the
 * standard RateLimit headers.
 */
export function rateLimiter(config: ApiConfig, auth: TokenAuth): RequestHandler | undefined {
  const { maxRequests, windowSeconds } = config.rateLimit;
  if (maxRequests === 0) return undefined;
  return rateLimit({
    windowMs: windowSeconds * 1000,
    limit: maxRequests,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skip: (req) => UNLIMITED.has(req.path) || req.method === 'OPTIONS',
    keyGenerator: (req) => {
      let name: string | undefined;
      try {
        name = auth.identify(req.get('authorization'))?.name;
      } catch {
        name = undefined;
      }
      return name !== undefined ? `token:${name}` : `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`;
    },
    handler: (_req, res) => {
      const seconds = res.get('Retry-After') ?? String(windowSeconds);
      res.status(429).json(
        errorBody({ code: 'RATE_LIMITED', message: `more than ${maxRequests} requests in ${windowSeconds} s from this client (its token, or its address without one); retry in ${seconds} s` }),
      );
    },
  });
}
