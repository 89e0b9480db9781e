import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayRegistry, hashToken } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { cluster } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { buildArchive, errorOf, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

const TOKENS = { replay: 'tok-replay-5b1f0c', read: 'tok-read-77aa10', admin: 'tok-admin-e3d901' };
const tokenConfig = [
  { name: 'broker-ops', sha256: hashToken(TOKENS.replay), roles: ['replay' as const] },
  { name: 'scientist', sha256: hashToken(TOKENS.read).toUpperCase(), roles: ['read' as const] },
  { name: 'root', sha256: hashToken(TOKENS.admin), roles: ['admin' as const] },
];

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

describe('bearer tokens from the config (stored as SHA-256)', () => {
  let data: ApiArchive;
  let open: ApiServer;
  let closed: ApiServer;
  let replayArchive: Archive;

  beforeAll(async () => {
    data = await buildArchive();
    replayArchive = await openArchive({ dataDir: data.dataDir });
    const replays = new ReplayRegistry({ archive: replayArchive, target: cluster(UW_BROKERS) });
    open = await startApi(data.dataDir, { config: { tokens: tokenConfig }, replays });
    closed = await startApi(data.dataDir, { config: { tokens: tokenConfig, publicReads: false } });
  });

  afterAll(async () => {
    await open?.stop();
    await closed?.stop();
    await replayArchive?.close();
    data?.cleanup();
  });

  it('replay control: 401 without a token or with a bad one, 403 without the role, 200 with it', async () => {
    const none = await fetch(`${open.url}/v1/replays`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await errorOf(none)).code).toBe('UNAUTHORIZED');

    for (const header of ['Bearer wrong-token', 'Basic dXNlcjpwYXNz', `Bearer ${TOKENS.replay}x`, 'Bearer', `bearer  ${TOKENS.replay.slice(1)}`]) {
      const bad = await fetch(`${open.url}/v1/replays`, { headers: { Authorization: header } });
      expect(bad.status, header).toBe(401);
    }

    const reader = await fetch(`${open.url}/v1/replays`, { headers: bearer(TOKENS.read) });
    expect(reader.status).toBe(403);
    expect((await errorOf(reader)).message).toMatch(/scientist.*replay/);

    for (const t of [TOKENS.replay, TOKENS.admin]) {
      const ok = await fetch(`${open.url}/v1/replays`, { headers: bearer(t) });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ count: 0, replays: [] });
    }
    // The lower-case scheme is accepted too (RFC 9110: case-insensitive).
    expect((await fetch(`${open.url}/v1/replays`, { headers: { Authorization: `bearer ${TOKENS.replay}` } })).status).toBe(200);
  });

  it('every replay route is behind the token, and refuses before reading a body', async () => {
    for (const [method, path] of [
      ['POST', '/v1/replays'],
      ['GET', '/v1/replays/x'],
      ['POST', '/v1/replays/x/pause'],
      ['POST', '/v1/replays/x/resume'],
      ['POST', '/v1/replays/x/cancel'],
    ] as const) {
      const res = await fetch(`${open.url}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: method === 'POST' ? 'x'.repeat(100_000) : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    const forbidden = await fetch(`${open.url}/v1/replays/x/cancel`, { method: 'POST', headers: bearer(TOKENS.read) });
    expect(forbidden.status).toBe(403);
    const unknown = await fetch(`${open.url}/v1/replays/x/cancel`, { method: 'POST', headers: bearer(TOKENS.replay) });
    expect(unknown.status).toBe(404);
  });

  it('reads are public by default; with publicReads off they need the read role', async () => {
    expect((await fetch(`${open.url}/v1/nights`)).status).toBe(200);
    expect((await fetch(`${closed.url}/v1/nights`)).status).toBe(401);
    expect((await fetch(`${closed.url}/alerts/public/MD5SUMS`)).status).toBe(401);
    expect((await fetch(`${closed.url}/v1/nights`, { headers: bearer(TOKENS.replay) })).status).toBe(403);
    expect((await fetch(`${closed.url}/v1/nights`, { headers: bearer(TOKENS.read) })).status).toBe(200);
    expect((await fetch(`${closed.url}/alerts/public/MD5SUMS`, { headers: bearer(TOKENS.admin) })).status).toBe(200);
    // Probes and scrapers need no token.
    expect((await fetch(`${closed.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${closed.url}/metrics`)).status).toBe(200);
    const doc = (await (await fetch(`${closed.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { security: unknown[] }>> };
    expect(doc.paths['/v1/nights']!.get!.security).toEqual([{ bearer: [] }]);
  });

  it('without replay control configured the replay routes answer 503', async () => {
    const res = await fetch(`${closed.url}/v1/replays`, { headers: bearer(TOKENS.admin) });
    expect(res.status).toBe(503);
  });
});
