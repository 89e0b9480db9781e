import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContainer } from '../../src/alert/index.ts';
import { angularDistanceDeg } from '../../src/api/query/cone.ts';
import { BIG_NIGHT, FILES_NIGHT, LATER_NIGHT, SAMPLE_NIGHT, buildArchive, errorOf, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer, RealAlert } from './fixture.ts';

interface Row {
  candid: string;
  objectId: string;
  night: string;
  jd: number;
  ra: number;
  dec: number;
  distanceArcsec?: number;
}

describe('queries: objects, alerts, cutouts, cone, time windows', () => {
  let data: ApiArchive;
  let api: ApiServer;
  let all: RealAlert[];

  beforeAll(async () => {
    data = await buildArchive();
    api = await startApi(data.dataDir, { config: { maxPageAlerts: 50 } });
    all = [...data.sample, ...data.later, ...data.files, data.big];
  });

  afterAll(async () => {
    await api?.stop();
    data?.cleanup();
  });

  const get = (path: string, init?: RequestInit) => fetch(`${api.url}${path}`, init);

  it('the objectId query returns exactly the catalogue\'s alerts of the object, across nights, in time order', async () => {
    const objectId = data.sample[0]!.objectId;
    const res = await get(`/v1/objects/${objectId}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { objectId: string; count: number; alerts: Row[] };
    const expected = api.archive.catalogue.alertsOfObject(objectId);
    expect(expected.length).toBeGreaterThanOrEqual(4);
    expect(body.count).toBe(expected.length);
    expect(body.alerts.map((a) => a.candid)).toEqual(expected.map((r) => r.candid.toString()));
    expect(body.alerts.map((a) => a.jd)).toEqual(expected.map((r) => r.jd));
    expect(new Set(body.alerts.map((a) => a.night))).toEqual(new Set([SAMPLE_NIGHT, LATER_NIGHT]));
    // Every object of the sample: the same set as the real alerts say.
    for (const a of data.sample.slice(1, 6)) {
      const rows = ((await (await get(`/v1/objects/${a.objectId}`)).json()) as { alerts: Row[] }).alerts;
      const truth = all.filter((x) => x.objectId === a.objectId).map((x) => x.candid.toString()).sort();
      expect(rows.map((r) => r.candid).sort()).toEqual(truth);
    }
  });

  it('light curves as CSV and with chosen fields', async () => {
    const objectId = data.sample[0]!.objectId;
    const csv = await get(`/v1/objects/${objectId}?format=csv&fields=candid,jd,magpsf`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('candid,jd,magpsf');
    expect(lines).toHaveLength(1 + api.archive.catalogue.alertsOfObject(objectId).length);
    expect(lines[1]!.split(',')[0]).toBe(data.sample[0]!.candid.toString());
    const picked = (await (await get(`/v1/objects/${objectId}?fields=jd,candid`)).json()) as { alerts: Record<string, unknown>[] };
    expect(Object.keys(picked.alerts[0]!)).toEqual(['jd', 'candid']);
  });

  it('candid JSON keeps 64-bit values exact (2480088313915010007)', async () => {
    const res = await get(`/v1/alerts/${data.big.candid}`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"candid":"2480088313915010007"');
    const body = JSON.parse(text) as { candid: string; night: string; programid: number; alert: { candid: string; candidate: { candid: string; pid: string; jd: number } } };
    expect(body.candid).toBe('2480088313915010007');
    expect(body).toMatchObject({ night: BIG_NIGHT, programid: 2 });
    expect(body.alert.candid).toBe('2480088313915010007');
    expect(body.alert.candidate.candid).toBe('2480088313915010007');
    expect(body.alert.candidate.pid).toBe(data.big.decoded.alert.candidate.pid.toString());
    expect(typeof body.alert.candidate.jd).toBe('number');
    // Cutouts stay out of the JSON unless asked for.
    expect(text).not.toContain('stampData');
    const withCutouts = (await (await get(`/v1/alerts/${data.big.candid}?cutouts=base64`)).json()) as { alert: { cutoutScience: { stampData: string } } };
    expect(Buffer.from(withCutouts.alert.cutoutScience.stampData, 'base64').equals(data.big.decoded.alert.cutoutScience!.stampData)).toBe(true);
  });

  it('Accept: application/avro (or avro/binary) gives the exact stored bytes', async () => {
    for (const a of [data.sample[3]!, data.files[0]!, data.big]) {
      for (const accept of ['application/avro', 'avro/binary']) {
        const res = await get(`/v1/alerts/${a.candid}`, { headers: { Accept: accept } });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain(accept);
        expect(Buffer.from(await res.arrayBuffer()).equals(a.bytes)).toBe(true);
      }
    }
    const byParam = await get(`/v1/alerts/${data.sample[0]!.candid}?format=avro`);
    expect(readContainer(Buffer.from(await byParam.arrayBuffer()))[0]!.alert.candid).toBe(data.sample[0]!.candid);
    const refused = await get(`/v1/alerts/${data.sample[0]!.candid}`, { headers: { Accept: 'image/gif' } });
    expect(refused.status).toBe(406);
    expect((await errorOf(refused)).code).toBe('NOT_ACCEPTABLE');
  });

  it('cutouts: FITS as ZTF made it, PNG a valid 63×63 image', async () => {
    const a = data.sample[0]!;
    for (const kind of ['science', 'template', 'difference']) {
      const fits = await get(`/v1/alerts/${a.candid}/cutouts/${kind}.fits`);
      expect(fits.status).toBe(200);
      expect(fits.headers.get('content-type')).toBe('application/fits');
      const bytes = Buffer.from(await fits.arrayBuffer());
      expect(bytes.toString('latin1', 0, 9)).toBe('SIMPLE  =');
      expect(bytes.length % 2880).toBe(0);

      const png = await get(`/v1/alerts/${a.candid}/cutouts/${kind}.png`);
      expect(png.status).toBe(200);
      expect(png.headers.get('content-type')).toBe('image/png');
      const image = pngjs.PNG.sync.read(Buffer.from(await png.arrayBuffer()));
      expect([image.width, image.height]).toEqual([63, 63]);
      // A stretched sky image spans the grey range.
      const greys = new Set<number>();
      for (let i = 0; i < image.data.length; i += 4) greys.add(image.data[i]!);
      expect(greys.size).toBeGreaterThan(50);
    }
    expect((await get(`/v1/alerts/${a.candid}/cutouts/sky.png`)).status).toBe(400);
    expect((await get(`/v1/alerts/${a.candid}/cutouts/science.jpg`)).status).toBe(400);
    expect((await get(`/v1/alerts/123/cutouts/science.png`)).status).toBe(404);
  });

  it('cone search finds the known objects of the real sample, nearest first, distances in arcsec', async () => {
    for (const centre of data.sample.slice(0, 8)) {
      const { ra, dec } = centre.decoded.alert.candidate;
      const radius = 0.5;
      const res = await get(`/v1/cone?ra=${ra}&dec=${dec}&radius=${radius}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { count: number; truncated: boolean; alerts: Row[] };
      const expected = all
        .map((a) => ({ candid: a.candid.toString(), d: angularDistanceDeg(ra, dec, a.decoded.alert.candidate.ra, a.decoded.alert.candidate.dec) }))
        .filter((x) => x.d <= radius);
      expect(body.alerts.map((a) => a.candid).sort()).toEqual(expected.map((x) => x.candid).sort());
      expect(body.alerts[0]!.objectId).toBe(centre.objectId);
      expect(body.alerts[0]!.distanceArcsec).toBeLessThan(1e-3);
      const distances = body.alerts.map((a) => a.distanceArcsec!);
      expect(distances).toEqual([...distances].sort((x, y) => x - y));
    }
  });

  it('time windows a page at a time with an opaque cursor, in (jd, candid) order', async () => {
    const seen: Row[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Response = await get(`/v1/alerts?night=${SAMPLE_NIGHT}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { alerts: Row[]; nextCursor: string | null };
      seen.push(...body.alerts);
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(5);
    expect(seen.map((r) => r.candid).sort()).toEqual(data.sample.map((a) => a.candid.toString()).sort());
    const order = seen.map((r) => [r.jd, BigInt(r.candid)] as const);
    for (let i = 1; i < order.length; i++) expect(order[i - 1]![0] < order[i]![0] || (order[i - 1]![0] === order[i]![0] && order[i - 1]![1] < order[i]![1])).toBe(true);

    // A time window in JD and the same in ISO give the same alerts.
    const jds = seen.map((r) => r.jd).sort((x, y) => x - y);
    const from = jds[5]!;
    const to = jds[20]!;
    const byJd = (await (await get(`/v1/alerts?night=${SAMPLE_NIGHT}&from=${from}&to=${to}`)).json()) as { alerts: Row[] };
    expect(byJd.alerts.every((r) => r.jd >= from && r.jd < to)).toBe(true);
    expect(byJd.alerts.length).toBe(jds.filter((j) => j >= from && j < to).length);
    const iso = (jd: number) => new Date((jd - 2440587.5) * 86_400_000 - 1).toISOString();
    const byIso = (await (await get(`/v1/alerts?night=${SAMPLE_NIGHT}&from=${iso(from)}&to=${iso(to)}`)).json()) as { alerts: Row[] };
    expect(byIso.alerts.length).toBeGreaterThan(0);

    // A cursor belongs to its query.
    const first = (await (await get(`/v1/alerts?night=${SAMPLE_NIGHT}&limit=3`)).json()) as { nextCursor: string };
    const misuse = await get(`/v1/alerts?night=${SAMPLE_NIGHT}&limit=3&fid=1&cursor=${first.nextCursor}`);
    expect(misuse.status).toBe(400);
    expect((await errorOf(misuse)).message).toMatch(/cursor/);
    expect((await get(`/v1/alerts?night=${SAMPLE_NIGHT}&cursor=bm90LWEtY3Vyc29y`)).status).toBe(400);
    expect((await get(`/v1/alerts?night=${SAMPLE_NIGHT}&limit=51`)).status).toBe(400);
  });

  it('the other nights answer too', async () => {
    const files = (await (await get(`/v1/alerts?night=${FILES_NIGHT}`)).json()) as { alerts: Row[] };
    expect(files.alerts.map((r) => r.candid).sort()).toEqual(data.files.map((a) => a.candid.toString()).sort());
    const big = (await (await get(`/v1/alerts?night=${BIG_NIGHT}&programid=2`)).json()) as { alerts: Row[] };
    expect(big.alerts.map((r) => r.candid)).toEqual(['2480088313915010007']);
  });
});
