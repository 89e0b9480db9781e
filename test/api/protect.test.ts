import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiConfig, hashToken } from '../../src/api/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { buildArchive, errorOf, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

const TOKENS = { alice: 'tok-alice-31c9d2', bob: 'tok-bob-a07e55' };
const tokens = [
  { name: 'alice', sha256: hashToken(TOKENS.alice), roles: ['read' as const] },
  { name: 'bob', sha256: hashToken(TOKENS.bob), roles: ['read' as const] },
];
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

describe('HTTP hardening: rate limit per client, CORS policy, security headers', () => {
  let data: ApiArchive;
  let limited: ApiServer;
  let shared: ApiServer;
  let plain: ApiServer;

  beforeAll(async () => {
    data = await buildArchive();
    limited = await startApi(data.dataDir, { config: { tokens, rateLimit: { windowSeconds: 60, maxRequests: 5 } } });
    shared = await startApi(data.dataDir, { config: { tokens, corsOrigins: ['https://broker.example.org'] } });
    plain = await startApi(data.dataDir, { config: { tokens } });
  });

  afterAll(async () => {
    await limited?.stop();
    await shared?.stop();
    await plain?.stop();
    data?.cleanup();
  });

  it('answers 429 with Retry-After once a token has used its requests; other tokens and health checks are not affected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${limited.url}/v1/nights`, { headers: bearer(TOKENS.alice) })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);

    const refused = await fetch(`${limited.url}/v1/nights`, { headers: bearer(TOKENS.alice) });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit')).toMatch(/remaining=0/);
    const e = await errorOf(refused);
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.message).toContain('5 requests in 60 s');

    // Bob has his own budget, and so does an anonymous caller (by address).
    expect((await fetch(`${limited.url}/v1/nights`, { headers: bearer(TOKENS.bob) })).status).toBe(200);
    expect((await fetch(`${limited.url}/v1/nights`)).status).toBe(200);
    // Monitoring is never limited.
    for (let i = 0; i < 8; i++) expect((await fetch(`${limited.url}/healthz`, { headers: bearer(TOKENS.alice) })).status).toBe(200);
  });

  it('CORS: a listed origin may read (and preflight a replay request); another origin gets no CORS headers', async () => {
    const allowed = await fetch(`${shared.url}/v1/nights`, { headers: { Origin: 'https://broker.example.org' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://broker.example.org');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Content-Range');

    const preflight = await fetch(`${shared.url}/v1/replays`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://broker.example.org', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');

    const other = await fetch(`${shared.url}/v1/nights`, { headers: { Origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // Without corsOrigins no cross-origin page may read at all.
    const none = await fetch(`${plain.url}/v1/nights`, { headers: { Origin: 'https://broker.example.org' } });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('every answer carries the security headers; pages allow only their own scripts', async () => {
    for (const path of ['/v1/nights', '/v1/alerts/1', '/objects/ZTF18abaqwse', '/no/such/route']) {
      const res = await fetch(`${plain.url}${path}`);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain('unsafe-eval');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('refuses a CORS origin that is not scheme://host[:port], naming the key', () => {
    let caught: unknown;
    try {
      apiConfig({ corsOrigins: ['broker.example.org/path'] });
    } catch (err) {
      caught = err;
    }
    expect(isZadsError(caught, 'CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('api.corsOrigins.0');
  });
});
