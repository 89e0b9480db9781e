import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { iterateContainer, iterateTarball, readContainer, writeContainer } from '../../src/alert/index.ts';
import type { DecodedAlert } from '../../src/alert/index.ts';
import { createApp, listen } from '../../src/api/index.ts';
import type { CreateAppOptions, RunningServer } from '../../src/api/index.ts';
import { alertRow, md5sumsKey, openArchive, readAll, segmentKey, tarballKey, tarballName } from '../../src/archive/index.ts';
import type { AlertRow, Archive } from '../../src/archive/index.ts';
import type { S3Config } from '../../src/config/index.ts';
import { SAMPLE_TARBALL, TRAILING_GARBAGE_FILE, goodAlertFiles } from '../helpers/data.ts';

/** One real alert: its exact bytes (a single-alert container file) and what they decode to. */
export interface RealAlert {
  bytes: Buffer;
  decoded: DecodedAlert;
  candid: bigint;
  objectId: string;
}

function realAlert(bytes: Buffer, decoded: DecodedAlert): RealAlert {
  return { bytes, decoded, candid: decoded.alert.candid, objectId: decoded.alert.objectId };
}

/** The 30 alerts of the real UW sample tarball (night 20180819, programid 1), as archived there. */
export async function sampleAlerts(): Promise<RealAlert[]> {
  const out: RealAlert[] = [];
  for await (const m of iterateTarball(SAMPLE_TARBALL)) out.push(realAlert(m.bytes, readContainer(m.bytes)[0]!));
  return out;
}

/** The single-alert files of the shared data that decode whole, each candid once. */
export function fileAlerts(): RealAlert[] {
  const seen = new Set<bigint>();
  const out: RealAlert[] = [];
  for (const f of goodAlertFiles()) {
    let decoded: DecodedAlert[];
    try {
      decoded = readContainer(readFileSync(f.path));
    } catch {
      continue;
    }
    if (decoded.length !== 1 || seen.has(decoded[0]!.alert.candid)) continue;
    seen.add(decoded[0]!.alert.candid);
    out.push(realAlert(readFileSync(f.path), decoded[0]!));
  }
  return out;
}

/**
 * The v4.02 alert of candid 2480088313915010007: its file has bytes after the first block that are not
 * a valid block, so only the first container part is kept — the alert re-encoded with its own schema.
 */
export function bigCandidAlert(): RealAlert {
  const first = iterateContainer(readFileSync(TRAILING_GARBAGE_FILE)).next().value as DecodedAlert;
  const bytes = writeContainer([first.alert], first.schema);
  return realAlert(bytes, readContainer(bytes)[0]!);
}

/** Copies of an alert under new candids (same object): more points of its light curve. */
export function copies(src: RealAlert, count: number, firstCandid: bigint, jdStep = 0.01): RealAlert[] {
  return Array.from({ length: count }, (_, i) => {
    const candid = firstCandid + BigInt(i);
    const c = src.decoded.alert.candidate;
    const alert = { ...src.decoded.alert, candid, candidate: { ...c, candid, jd: c.jd + 1 + i * jdStep } };
    const bytes = writeContainer([alert], src.decoded.schema);
    return realAlert(bytes, readContainer(bytes)[0]!);
  });
}

/** Archives alerts as ingest would: exact bytes appended to a segment, made durable, then one catalogue batch. */
export async function addAlerts(archive: Archive, alerts: readonly RealAlert[], night: string, programid: number, source = 'fixture'): Promise<AlertRow[]> {
  const key = segmentKey(night, programid, source);
  const { offsets, sizeBytes } = await archive.segments.append(key, alerts.map((a) => a.bytes));
  await archive.segments.sync();
  const rows = alerts.map((a, i) => alertRow(a.decoded, { night, programid, segment: key, byteOffset: offsets[i]!, byteLength: a.bytes.length }));
  archive.catalogue.record({ alerts: rows, segments: [{ key, night, programid, sizeBytes }] });
  return rows;
}

/** Writes a night's tarball (members `<candid>.avro`) and its MD5SUMS line, and marks the night closed. */
export async function closeWithTarball(archive: Archive, alerts: readonly RealAlert[], night: string, programid: number): Promise<{ tarball: Buffer; md5: string }> {
  const pack = tar.pack();
  const gz = pack.pipe(createGzip());
  const done = readAll(gz);
  for (const a of alerts) pack.entry({ name: `${a.candid}.avro`, mtime: new Date(1_534_636_800_000) }, a.bytes);
  pack.finalize();
  const tarball = await done;
  const md5 = createHash('md5').update(tarball).digest('hex');
  await archive.local.put(tarballKey(night, programid), tarball);
  await archive.local.put(md5sumsKey(programid), Buffer.from(`${md5}  ${tarballName(night, programid)}\n`));
  archive.catalogue.markClosed({ night, programid, tarballKey: tarballKey(night, programid), tarballBytes: tarball.length, tarballMd5: md5, tarballAlerts: alerts.length });
  return { tarball, md5 };
}

export const SAMPLE_NIGHT = '20180819';
export const LATER_NIGHT = '20180820';
export const FILES_NIGHT = '20190110';
export const BIG_NIGHT = '20231015';

export interface ApiArchive {
  dataDir: string;
  sample: RealAlert[];
  files: RealAlert[];
  big: RealAlert;
  /** Copies of sample[0] in LATER_NIGHT: its object then has alerts in two nights. */
  later: RealAlert[];
  tarball: Buffer;
  md5: string;
  cleanup(): void;
}

/**
 * A data folder with the real sample night closed (tarball + MD5SUMS), a later open night with more
 * alerts of one of its objects, the other real alert files in a night of their own, and the v4.02 alert
 * in a partnership night. Built with the writer, then closed: the API opens it as a reader.
 */
export async function buildArchive(options: { s3?: S3Config } = {}): Promise<ApiArchive> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zads-api-'));
  const archive = await openArchive({ dataDir, writer: true, s3: options.s3 });
  try {
    const sample = await sampleAlerts();
    const files = fileAlerts().filter((f) => !sample.some((s) => s.candid === f.candid));
    const big = bigCandidAlert();
    const later = copies(sample[0]!, 3, 9_100_000_000_000_000_000n);
    await addAlerts(archive, sample.slice(0, 15), SAMPLE_NIGHT, 1, 'p0');
    await addAlerts(archive, sample.slice(15), SAMPLE_NIGHT, 1, 'p1');
    const { tarball, md5 } = await closeWithTarball(archive, sample, SAMPLE_NIGHT, 1);
    await addAlerts(archive, later, LATER_NIGHT, 1);
    await addAlerts(archive, files, FILES_NIGHT, 1);
    await addAlerts(archive, [big], BIG_NIGHT, 2);
    return { dataDir, sample, files, big, later, tarball, md5, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
  } finally {
    await archive.close();
  }
}

export interface ApiServer extends RunningServer {
  archive: Archive;
  /** Stops the server and closes the archive. */
  stop(): Promise<void>;
}

/** The API over a data folder, on a free port of 127.0.0.1. */
export async function startApi(dataDir: string, options: Omit<CreateAppOptions, 'archive'> & { s3?: S3Config } = {}): Promise<ApiServer> {
  const archive = await openArchive({ dataDir, s3: options.s3 });
  const server = await listen(createApp({ ...options, archive }), { host: '127.0.0.1', port: 0 });
  return {
    ...server,
    archive,
    async stop() {
      await options.replays?.close();
      await server.close(1000);
      await archive.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request sent exactly as written (fetch would normalise "/../" away before sending it). */
export function rawGet(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The error body of an answer, for assertions. */
export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

export function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}
