import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/api/index.ts';
import { SAMPLE_NIGHT, buildArchive, errorOf, rawGet, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

const REPLAY_TOKEN = 'replay-token-0123456789';

describe('every parameter validated: 400 naming it, 404 for what does not exist', () => {
  let data: ApiArchive;
  let api: ApiServer;

  beforeAll(async () => {
    data = await buildArchive();
    api = await startApi(data.dataDir, { config: { tokens: [{ name: 'ops', sha256: hashToken(REPLAY_TOKEN), roles: ['replay'] }] } });
  });

  afterAll(async () => {
    await api?.stop();
    data?.cleanup();
  });

  const candid = () => data.sample[0]!.candid.toString();

  it.each([
    ['/v1/cone?ra=400&dec=0&radius=0.1', 'INVALID_PARAMETER', /ra/],
    ['/v1/cone?ra=10&dec=-91&radius=0.1', 'INVALID_PARAMETER', /dec/],
    ['/v1/cone?ra=10&dec=0&radius=2', 'INVALID_PARAMETER', /radius.*(1|less)/],
    ['/v1/cone?ra=10&dec=0&radius=0', 'INVALID_PARAMETER', /radius/],
    ['/v1/cone?ra=10&dec=0', 'INVALID_PARAMETER', /radius/],
    ['/v1/cone?ra=ten&dec=0&radius=0.1', 'INVALID_PARAMETER', /ra/],
    ['/v1/cone?ra=&dec=0&radius=0.1', 'INVALID_PARAMETER', /ra/],
    ['/v1/cone?ra=1&ra=2&dec=0&radius=0.1', 'INVALID_PARAMETER', /ra/],
    ['/v1/cone?ra=1&dec=0&radius=0.1&limit=0', 'INVALID_PARAMETER', /limit/],
    ['/v1/cone?ra=1&dec=0&radius=0.1&radius_deg=1', 'UNKNOWN_PARAMETER', /radius_deg/],
    ['/v1/objects/bad!id', 'INVALID_PARAMETER', /objectId/],
    ['/v1/objects/ZTF18aabqtud?format=xml', 'INVALID_PARAMETER', /format/],
    ['/v1/objects/ZTF18aabqtud?fields=candid,nope', 'INVALID_PARAMETER', /nope/],
    ['/v1/alerts/abc', 'INVALID_PARAMETER', /candid/],
    ['/v1/alerts/99999999999999999999', 'INVALID_PARAMETER', /candid/],
    ['/v1/alerts/9223372036854775808', 'INVALID_PARAMETER', /64-bit/],
    ['/v1/alerts?night=2018', 'INVALID_PARAMETER', /night/],
    ['/v1/alerts?night=20181301', 'INVALID_PARAMETER', /calendar/],
    ['/v1/alerts', 'INVALID_PARAMETER', /night/],
    [`/v1/alerts?night=${SAMPLE_NIGHT}&from=yesterday`, 'INVALID_PARAMETER', /from/],
    [`/v1/alerts?night=${SAMPLE_NIGHT}&from=2458350.5&to=2458349.5`, 'INVALID_PARAMETER', /before/],
    [`/v1/alerts?night=${SAMPLE_NIGHT}&fid=4`, 'INVALID_PARAMETER', /fid/],
    [`/v1/alerts?night=${SAMPLE_NIGHT}&programid=-1`, 'INVALID_PARAMETER', /programid/],
    ['/v1/nights?foo=1', 'UNKNOWN_PARAMETER', /foo/],
    ['/v1/nights?state=half', 'INVALID_PARAMETER', /state/],
    ['/healthz?x=1', 'UNKNOWN_PARAMETER', /x/],
  ])('%s → 400 %s', async (path, code, message) => {
    const res = await fetch(`${api.url}${path}`);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('a parameter out of the cone cap says what the cap is', async () => {
    const error = await errorOf(await fetch(`${api.url}/v1/cone?ra=10&dec=0&radius=5`));
    expect(error.message).toMatch(/radius/);
  });

  it.each([
    ['/v1/alerts/123', 'NOT_FOUND'],
    ['/v1/objects/ZTF99nothing', 'NOT_FOUND'],
    ['/v1/alerts?night=20000101', 'NOT_FOUND'],
    ['/v1/alerts?night=20180819&programid=2', 'NOT_FOUND'],
    ['/v1/alerts/123/cutouts/science.fits', 'NOT_FOUND'],
    ['/v1/nope', 'ROUTE_NOT_FOUND'],
    ['/V1/NIGHTS', 'ROUTE_NOT_FOUND'],
    ['/v2/nights', 'ROUTE_NOT_FOUND'],
    ['/web/no-such-asset.js', 'NOT_FOUND'],
  ])('%s → 404 %s', async (path, code) => {
    const res = await fetch(`${api.url}${path}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await errorOf(res)).code).toBe(code);
  });

  it('a method the route does not have is an unknown route', async () => {
    const res = await fetch(`${api.url}/v1/nights`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('ROUTE_NOT_FOUND');
  });

  it('request bodies: JSON only, at most api.maxBodyBytes, fields checked by name', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${api.url}/v1/replays`, { method: 'POST', headers: { Authorization: `Bearer ${REPLAY_TOKEN}`, 'Content-Type': type }, body });
    const huge = await post(JSON.stringify({ night: SAMPLE_NIGHT, objectIds: Array.from({ length: 3000 }, (_, i) => `ZTF18a${i}`) }));
    expect(huge.status).toBe(413);
    expect((await errorOf(huge)).code).toBe('PAYLOAD_TOO_LARGE');
    const notJson = await post('{night:');
    expect(notJson.status).toBe(400);
    expect((await errorOf(notJson)).code).toBe('INVALID_BODY');
    const text = await post('night=20180819', 'text/plain');
    expect(text.status).toBe(415);
    const unknownField = await post(JSON.stringify({ night: SAMPLE_NIGHT, brokers: 'evil:9092' }));
    expect(unknownField.status).toBe(400);
    expect((await errorOf(unknownField)).message).toMatch(/brokers/);
    const badPacing = await post(JSON.stringify({ night: SAMPLE_NIGHT, pacing: { mode: 'rate', alertsPerSec: -5 } }));
    expect(badPacing.status).toBe(400);
    expect((await errorOf(badPacing)).message).toMatch(/pacing\.alertsPerSec/);
    const badTime = await post(JSON.stringify({ night: SAMPLE_NIGHT, from: 'soon' }));
    expect((await errorOf(badTime)).message).toMatch(/from/);
    const noNight = await post(JSON.stringify({}));
    expect((await errorOf(noNight)).message).toMatch(/night/);
  });

  it('a malformed percent-encoding is a 400, and the answers carry nosniff', async () => {
    const res = await rawGet(api.url, `/v1/alerts/${candid()}%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('the web assets never serve a file outside their folder, however the path is spelled', async () => {
    for (const path of ['/web/../package.json', '/web/%2e%2e/package.json', '/web/..%2fpackage.json', '/web/vendor/../../../../package.json', '/web/.gitignore']) {
      const res = await rawGet(api.url, path);
      expect([400, 404], path).toContain(res.status);
      expect(res.body.toString(), path).not.toContain('"name": "zads-ts"');
      expect(JSON.parse(res.body.toString()).error.code, path).toMatch(/^(INVALID_PARAMETER|NOT_FOUND|ROUTE_NOT_FOUND)$/);
    }
  });
});
