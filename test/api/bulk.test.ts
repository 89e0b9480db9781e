import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5sumsKey, openArchive, tarballKey } from '../../src/archive/index.ts';
import { S3Config } from '../helpers/s3.ts';
import { SAMPLE_NIGHT, buildArchive, errorOf, md5, rawGet, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

/** `md5sum`'s lines: `<digest>  <name>`. */
function parseMd5sums(text: string): { entries: { md5: string; name: string }[] } {
  const entries = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => /^([0-9a-f]{32}) [ *](.+)$/.exec(l)!)
    .map((m) => ({ md5: m[1]!, name: m[2]! }));
  return { entries };
}

const TARBALL_PATH = `/alerts/public/ztf_public_${SAMPLE_NIGHT}.tar.gz`;

describe('bulk download of nights (UW paths)', () => {
  let data: ApiArchive;
  let api: ApiServer;

  beforeAll(async () => {
    data = await buildArchive();
    api = await startApi(data.dataDir);
  });

  afterAll(async () => {
    await api?.stop();
    data?.cleanup();
  });

  it('a download cut in the middle and resumed with Range gives the file MD5SUMS lists', async () => {
    const full = await fetch(`${api.url}${TARBALL_PATH}`);
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    expect(full.headers.get('content-type')).toBe('application/gzip');
    const size = Number(full.headers.get('content-length'));
    const etag = full.headers.get('etag')!;
    expect(size).toBe(data.tarball.length);
    expect(etag).toMatch(/^".+"$/);
    // The client read only the first part before its connection dropped.
    const reader = full.body!.getReader();
    const parts: Buffer[] = [];
    let got = 0;
    while (got < size / 2) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(Buffer.from(value));
      got += value.length;
    }
    await reader.cancel();
    const head = Buffer.concat(parts).subarray(0, Math.floor(size / 2));

    const rest = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: `bytes=${head.length}-`, 'If-Range': etag } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${head.length}-${size - 1}/${size}`);
    expect(Number(rest.headers.get('content-length'))).toBe(size - head.length);
    const file = Buffer.concat([head, Buffer.from(await rest.arrayBuffer())]);

    const sums = await fetch(`${api.url}/alerts/public/MD5SUMS`);
    expect(sums.status).toBe(200);
    expect(sums.headers.get('content-type')).toMatch(/^text\/plain/);
    const line = parseMd5sums(await sums.text()).entries.find((e) => e.name === `ztf_public_${SAMPLE_NIGHT}.tar.gz`);
    expect(md5(file)).toBe(line?.md5);
    expect(file.equals(data.tarball)).toBe(true);
  });

  it('answers HEAD with the headers only, and suffix and bounded ranges', async () => {
    const head = await fetch(`${api.url}${TARBALL_PATH}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(data.tarball.length);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const last = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: 'bytes=-100' } });
    expect(last.status).toBe(206);
    expect(Buffer.from(await last.arrayBuffer()).equals(data.tarball.subarray(-100))).toBe(true);

    const mid = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: 'bytes=10-19' } });
    expect(mid.status).toBe(206);
    expect(Buffer.from(await mid.arrayBuffer()).equals(data.tarball.subarray(10, 20))).toBe(true);
  });

  it('416 past the end, 304 for a matching If-None-Match, the whole file when If-Range no longer matches', async () => {
    const size = data.tarball.length;
    const past = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    expect((await errorOf(past)).code).toBe('RANGE_NOT_SATISFIABLE');

    const etag = (await fetch(`${api.url}${TARBALL_PATH}`, { method: 'HEAD' })).headers.get('etag')!;
    const same = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { 'If-None-Match': etag } });
    expect(same.status).toBe(304);

    const changed = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: 'bytes=100-', 'If-Range': '"an-older-version"' } });
    expect(changed.status).toBe(200);
    expect(Buffer.from(await changed.arrayBuffer()).equals(data.tarball)).toBe(true);

    const multi = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: 'bytes=0-1,5-6' } });
    expect(multi.status).toBe(200);
    await multi.arrayBuffer();
  });

  it('404 for nights without a tarball and names that are no bulk file', async () => {
    for (const path of [
      '/alerts/public/ztf_public_20180820.tar.gz', // open night: no tarball yet
      '/alerts/public/ztf_public_20000101.tar.gz',
      '/alerts/public/ztf_partnership_20180819.tar.gz', // wrong folder for the name
      '/alerts/partnership/MD5SUMS',
      '/alerts/secret/MD5SUMS',
      '/alerts/public/catalogue.sqlite',
    ]) {
      const res = await fetch(`${api.url}${path}`);
      expect(res.status, path).toBe(404);
      expect((await errorOf(res)).code, path).toBe('NOT_FOUND');
    }
    const open = await fetch(`${api.url}/alerts/public/ztf_public_20180820.tar.gz`);
    expect((await errorOf(open)).message).toMatch(/is open/);
  });

  it('never serves anything outside the bulk folders, however the path is written', async () => {
    for (const path of [
      '/alerts/public/../../catalogue.sqlite',
      '/alerts/public/..%2f..%2fcatalogue.sqlite',
      '/alerts/public/%2e%2e%2f%2e%2e%2fcatalogue.sqlite',
      '/alerts/public/..%5c..%5ccatalogue.sqlite',
      '/alerts/%2e%2e/catalogue.sqlite',
      '/alerts/public/%2e%2e',
      '/alerts/public/MD5SUMS%00',
      '/alerts/public/..%252f..%252fcatalogue.sqlite',
      '/alerts/../catalogue.sqlite',
      '/alerts/public/ztf_public_20180819.tar.gz/../../../catalogue.sqlite',
    ]) {
      const res = await rawGet(api.url, path);
      expect([400, 404], path).toContain(res.status);
      const body = JSON.parse(res.body.toString('utf8')) as { error: { code: string } };
      expect(body.error.code, path).toMatch(/NOT_FOUND|INVALID_PARAMETER/);
      expect(res.body.includes(Buffer.from('SQLite format'))).toBe(false);
    }
    const bad = await rawGet(api.url, '/alerts/public/%E0%A4%A');
    expect(bad.status).toBe(400);
  });

  it('/v1/nights lists counts, sizes, md5, state and where each night is', async () => {
    const res = await fetch(`${api.url}/v1/nights`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { count: number; nights: Record<string, unknown>[] };
    const sample = body.nights.find((n) => n.night === SAMPLE_NIGHT && n.programid === 1)!;
    expect(sample).toMatchObject({
      state: 'closed',
      alerts: 30,
      stored: 'local',
      tarball: { url: TARBALL_PATH, bytes: data.tarball.length, md5: data.md5, alerts: 30 },
    });
    expect(sample.bytes).toBe(data.sample.reduce((s, a) => s + a.bytes.length, 0));
    expect(body.nights.find((n) => n.night === '20180820')).toMatchObject({ state: 'open', alerts: 3, tarball: null });
    const closed = (await (await fetch(`${api.url}/v1/nights?state=closed`)).json()) as { count: number };
    expect(closed.count).toBe(1);
    const partnership = (await (await fetch(`${api.url}/v1/nights?programid=2`)).json()) as { nights: { night: string }[] };
    expect(partnership.nights.map((n) => n.night)).toEqual(['20231015']);
  });
});

describe('bulk download from S3 when the night was pruned from local disk (real S3Proxy)', () => {
  let data: ApiArchive;
  let api: ApiServer;
  const bucket = `zads-api-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const s3 = S3Config(bucket, 'archive/');
    data = await buildArchive();
    // Upload the bulk files, then remove the local copies as retention would.
    const writer = await openArchive({ dataDir: data.dataDir, s3, writer: true });
    try {
      await writer.remote!.client.send(new CreateBucketCommand({ Bucket: bucket }));
      const segments = writer.catalogue.segments().filter((seg) => seg.night === SAMPLE_NIGHT).map((seg) => seg.key);
      expect(segments.length).toBe(2);
      for (const key of [tarballKey(SAMPLE_NIGHT, 1), md5sumsKey(1), ...segments]) {
        await writer.remote!.put(key, await writer.local.get(key));
        rmSync(join(data.dataDir, key));
      }
      writer.catalogue.setStored(SAMPLE_NIGHT, 1, 's3');
    } finally {
      await writer.close();
    }
    api = await startApi(data.dataDir, { s3 });
  });

  afterAll(async () => {
    await api?.stop();
    data?.cleanup();
  });

  it('streams the tarball from S3, ranges included, and the MD5 still matches', async () => {
    const head = await fetch(`${api.url}${TARBALL_PATH}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const size = Number(head.headers.get('content-length'));
    expect(size).toBe(data.tarball.length);
    const cut = 1000;
    const first = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: `bytes=0-${cut - 1}` } });
    expect(first.status).toBe(206);
    const rest = await fetch(`${api.url}${TARBALL_PATH}`, { headers: { Range: `bytes=${cut}-`, 'If-Range': head.headers.get('etag')! } });
    expect(rest.status).toBe(206);
    const file = Buffer.concat([Buffer.from(await first.arrayBuffer()), Buffer.from(await rest.arrayBuffer())]);
    const sums = parseMd5sums(await (await fetch(`${api.url}/alerts/public/MD5SUMS`)).text());
    expect(md5(file)).toBe(sums.entries[0]!.md5);
  });

  it('reads single alerts, cutouts and subsets of the pruned night from S3', async () => {
    const a = data.sample[7]!;
    const avro = await fetch(`${api.url}/v1/alerts/${a.candid}`, { headers: { Accept: 'application/avro' } });
    expect(avro.status).toBe(200);
    expect(Buffer.from(await avro.arrayBuffer()).equals(a.bytes)).toBe(true);
    const fits = await fetch(`${api.url}/v1/alerts/${a.candid}/cutouts/difference.fits`);
    expect(Buffer.from(await fits.arrayBuffer()).toString('latin1', 0, 9)).toBe('SIMPLE  =');
    const subset = await fetch(`${api.url}/v1/objects/${a.objectId}/alerts.zip`);
    expect(subset.status).toBe(200);
    expect((await subset.arrayBuffer()).byteLength).toBeGreaterThan(a.bytes.length);
  });
});
