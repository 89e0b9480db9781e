import type { NextFunction, Request, Response } from 'express';
import { counter, histogram } from '../metrics.ts';
import type { Registry } from '../metrics.ts';

/** Latency buckets, seconds: sub-millisecond lookups up to minute-long downloads. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Request count and latency by route (the route's path pattern, not the URL, so the label set stays
 * small) and status; bytes sent by downloads. Unmatched requests share the route label "unmatched".
 */
export function httpMetrics(registry: Registry): {
  middleware: (req: Request, res: Response, next: NextFunction) => void;
  bytesSent: (kind: string, n: number) => void;
} {
  const requests = counter(registry, 'zads_api_requests_total', 'HTTP requests answered, by method, route and status', ['method', 'route', 'status']);
  const latency = histogram(registry, 'zads_api_request_duration_seconds', 'Time to answer an HTTP request (to the last byte), by method and route', LATENCY_BUCKETS, [
    'method',
    'route',
  ]);
  const bytes = counter(registry, 'zads_api_download_bytes_total', 'Bytes of bulk files (counted when each answer ends) and subset archives (as they stream) sent', ['kind']);
  return {
    middleware(req, res, next) {
      const start = process.hrtime.bigint();
      res.once('close', () => {
        const routePath = (req.route as { path?: string } | undefined)?.path;
        const route = routePath ?? 'unmatched';
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        requests.inc({ method: req.method, route, status: String(res.statusCode) });
        latency.observe({ method: req.method, route }, seconds);
      });
      next();
    },
    bytesSent(kind, n) {
      bytes.inc({ kind }, n);
    },
  };
}
