import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../src/archive/index.ts';
import { SAMPLE_NIGHT, buildArchive, errorOf, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer, RealAlert } from './fixture.ts';
import { venvPython } from '../helpers/python.ts';

/** The members of a tar.gz, in order. */
async function untar(bytes: Buffer): Promise<{ name: string; bytes: Buffer }[]> {
  const out: { name: string; bytes: Buffer }[] = [];
  const extract = tar.extract();
  Readable.from([bytes]).pipe(createGunzip()).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.push({ name: entry.header.name, bytes: Buffer.concat(chunks) });
  }
  return out;
}

/** The members of a zip as Python's zipfile reads them (an independent reader), with their sizes and CRC check. */
function unzip(bytes: Buffer): { name: string; size: number }[] {
  const dir = mkdtempSync(join(tmpdir(), 'zads-zip-'));
  try {
    const file = join(dir, 'a.zip');
    writeFileSync(file, bytes);
    const script = 'import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, i.file_size] for i in z.infolist()]))';
    const r = spawnSync(venvPython(), ['-c', script, file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`python zipfile: ${r.stderr}`);
    return (JSON.parse(r.stdout) as [string, number][]).map(([name, size]) => ({ name, size }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BIG_OBJECT_NIGHT = '20180822';

/** Bytes the server's subset archives have sent so far (its /metrics). */
async function subsetBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^zads_api_download_bytes_total\{kind="subset"\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

describe('subsets built on the fly', () => {
  let data: ApiArchive;
  let api: ApiServer;
  let byCandid: Map<string, RealAlert>;

  beforeAll(async () => {
    data = await buildArchive();
    api = await startApi(data.dataDir);
    byCandid = new Map([...data.sample, ...data.later, ...data.files, data.big].map((a) => [a.candid.toString(), a]));
  });

  afterAll(async () => {
    await api?.stop();
    data?.cleanup();
  });

  it('an object as tar.gz: one <candid>.avro per alert, exact bytes, in time order', async () => {
    const objectId = data.sample[0]!.objectId;
    const res = await fetch(`${api.url}/v1/objects/${objectId}/alerts.tar.gz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/gzip');
    expect(res.headers.get('content-disposition')).toContain(`${objectId}_alerts.tar.gz`);
    const members = await untar(Buffer.from(await res.arrayBuffer()));
    const expected = api.archive.catalogue.alertsOfObject(objectId);
    expect(members.map((m) => m.name)).toEqual(expected.map((r) => `${r.candid}.avro`));
    for (const m of members) expect(m.bytes.equals(byCandid.get(m.name.replace('.avro', ''))!.bytes)).toBe(true);
  });

  it('an object as zip, readable by an independent zip reader', async () => {
    const objectId = data.sample[0]!.objectId;
    const res = await fetch(`${api.url}/v1/objects/${objectId}/alerts.zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const members = unzip(Buffer.from(await res.arrayBuffer()));
    const expected = api.archive.catalogue.alertsOfObject(objectId);
    expect(members.map((m) => m.name)).toEqual(expected.map((r) => `${r.candid}.avro`));
    expect(members.map((m) => m.size)).toEqual(expected.map((r) => r.byteLength));
    // HEAD builds nothing.
    const head = await fetch(`${api.url}/v1/objects/${objectId}/alerts.zip`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/zip');
  });

  it('a night and time range as tar.gz', async () => {
    const whole = await untar(Buffer.from(await (await fetch(`${api.url}/v1/alerts.tar.gz?night=${SAMPLE_NIGHT}`)).arrayBuffer()));
    expect(whole.map((m) => m.name).sort()).toEqual(data.sample.map((a) => `${a.candid}.avro`).sort());
    for (const m of whole) expect(m.bytes.equals(byCandid.get(m.name.replace('.avro', ''))!.bytes)).toBe(true);

    const jds = data.sample.map((a) => a.decoded.alert.candidate.jd).sort((a, b) => a - b);
    const from = jds[10]!;
    const to = jds[20]!;
    const part = await untar(Buffer.from(await (await fetch(`${api.url}/v1/alerts.tar.gz?night=${SAMPLE_NIGHT}&from=${from}&to=${to}`)).arrayBuffer()));
    const inRange = data.sample.filter((a) => a.decoded.alert.candidate.jd >= from && a.decoded.alert.candidate.jd < to);
    expect(part.map((m) => m.name).sort()).toEqual(inRange.map((a) => `${a.candid}.avro`).sort());
  });

  it('404 when nothing matches, before anything is streamed', async () => {
    const none = await fetch(`${api.url}/v1/objects/ZTF99nothing/alerts.zip`);
    expect(none.status).toBe(404);
    expect((await errorOf(none)).code).toBe('NOT_FOUND');
    const empty = await fetch(`${api.url}/v1/alerts.tar.gz?night=${SAMPLE_NIGHT}&from=2400000.5&to=2400001.5`);
    expect(empty.status).toBe(404);
    const unknownNight = await fetch(`${api.url}/v1/alerts.tar.gz?night=20000101`);
    expect(unknownNight.status).toBe(404);
  });

  it('memory stays bounded: a client that stops reading holds the server back, and one that leaves stops it', async () => {
    // 3,000 catalogue rows pointing at real alert bytes: a ~200 MB archive if it were all sent.
    const writer = await openArchive({ dataDir: data.dataDir, writer: true });
    const src = writer.catalogue.alert(data.sample[0]!.candid)!;
    const rows = Array.from({ length: 3000 }, (_, i) => ({ ...src, candid: 8_000_000_000_000_000_000n + BigInt(i), night: BIG_OBJECT_NIGHT, objectId: 'ZTF99bigobject', jd: src.jd + i * 1e-5 }));
    writer.catalogue.record({ alerts: rows });
    await writer.close();
    const total = rows.length * src.byteLength;

    for (const path of [`/v1/alerts.tar.gz?night=${BIG_OBJECT_NIGHT}`, '/v1/objects/ZTF99bigobject/alerts.zip']) {
      const before = await subsetBytes(api.url);
      const controller = new AbortController();
      const res = await fetch(`${api.url}${path}`, { signal: controller.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read();
      await new Promise((r) => setTimeout(r, 1500));
      const stalled = (await subsetBytes(api.url)) - before;
      expect(stalled, path).toBeGreaterThan(0);
      expect(stalled, path).toBeLessThan(Math.min(32 * 1024 * 1024, total / 4));
      controller.abort();
      await new Promise((r) => setTimeout(r, 500));
      const afterAbort = (await subsetBytes(api.url)) - before;
      await new Promise((r) => setTimeout(r, 500));
      expect((await subsetBytes(api.url)) - before, path).toBe(afterAbort);
    }
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });
});
