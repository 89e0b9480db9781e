import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplayRegistry, hashToken } from '../../src/api/index.ts';
import { openArchive } from '../../src/archive/index.ts';
import { ReplayTargetPolicy } from '../../src/replay/index.ts';
import type { Archive } from '../../src/archive/index.ts';
import { deleteTopics } from '../../src/kafka/index.ts';
import { caseRandom, fuzzSeed, randomText } from '../helpers/fuzz/index.ts';
import type { FuzzRandom } from '../helpers/fuzz/index.ts';
import { cluster, kafkaFor } from '../helpers/kafka.ts';
import { UW_BROKERS } from '../helpers/services.ts';
import { BIG_NIGHT, FILES_NIGHT, LATER_NIGHT, SAMPLE_NIGHT, buildArchive, startApi } from './fixture.ts';
import type { ApiArchive, ApiServer } from './fixture.ts';

/*
 * Every operation of the OpenAPI document, fuzzed over real HTTP: path parameters, query strings,
 * headers, bodies and methods drawn from valid values and from every kind of wrong one. Whatever is
 * sent, the server answers below 500, every 4xx is a JSON {error: {code, message}}, and it stays up.
 * Requests are written byte for byte on a socket, so nothing is normalised or refused on the way out.
 */

const SEED = fuzzSeed('http api', 20_240_612);
const CASES_PER_OPERATION = 130;
const RAW_CASES = 300;
/** A request unanswered this long is taken as hung (the slowest valid one, a night subset, takes well under a second). */
const REQUEST_TIMEOUT_MS = 30_000;

const READ_TOKEN = 'fuzz-read-token-7d1c9a';
const REPLAY_TOKEN = 'fuzz-replay-token-52be0f';
const ADMIN_TOKEN = 'fuzz-admin-token-e93a41';
const TOKENS = [
  { name: 'reader', sha256: hashToken(READ_TOKEN), roles: ['read' as const] },
  { name: 'ops', sha256: hashToken(REPLAY_TOKEN), roles: ['replay' as const] },
  { name: 'admin', sha256: hashToken(ADMIN_TOKEN), roles: ['admin' as const] },
];

const uw = kafkaFor(UW_BROKERS);

// ---------------------------------------------------------------------------------------------------
// HTTP on a bare socket

interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', pos);
    if (eol < 0) break;
    const size = Number.parseInt(data.toString('latin1', pos, eol), 16);
    if (!(size > 0)) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** Sends `head` (request line and headers, CRLF-separated, without the blank line) and `body`; reads the answer to the end. */
function send(port: number, head: string, body?: Buffer, method = head.slice(0, head.indexOf(' '))): Promise<RawAnswer | 'hung' | 'closed'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hung');
    }, REQUEST_TIMEOUT_MS);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        resolve('closed');
        return;
      }
      const lines = data.toString('latin1', 0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      let rest: Buffer = data.subarray(end + 4);
      const length = headers.get('content-length');
      if (method === 'HEAD' || status === 304 || status === 204) rest = Buffer.alloc(0);
      else if (headers.get('transfer-encoding')?.includes('chunked')) rest = dechunk(rest);
      // Anything after the answer (node answering a malformed rest of the request) is not part of it.
      else if (length !== undefined) rest = rest.subarray(0, Number(length));
      resolve({ status, headers, body: rest });
    });
    // No half-close: a server that sees the end of the request stream may drop the answer in progress.
    socket.write(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1');
    if (body) socket.write(body);
  });
}

// ---------------------------------------------------------------------------------------------------
// Values

/** A request-target component: percent-encoded as a client would, or with its %, / and ? left raw. */
function component(rnd: FuzzRandom, value: string): string {
  // Encoded: everything but the unreserved characters (lone surrogates go as UTF-8 of U+FFFD, as Buffer writes them).
  // Raw: only what cannot appear in a request line at all (controls, space, '#', non-ASCII) is encoded.
  const keep = rnd.chance(0.75) ? (c: number) => /[A-Za-z0-9\-._~]/.test(String.fromCharCode(c)) : (c: number) => c > 0x20 && c < 0x7f && c !== 0x23;
  return Array.from(Buffer.from(value, 'utf8'))
    .map((b) => (keep(b) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`))
    .join('');
}

const TRICKY = [
  '', ' ', '.', '..', '../..', '%', '%zz', '%ff', '%00', '%2F', '%2e%2e', '/', '//', '\\', '?', '&', '=', '#',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'null', 'undefined', 'true', 'false', '[]', '{}',
  '-1', '0', '-0', '+1', '1.5', '.5', '5.', '1e5', '1e309', '-1e309', '1e-400', 'NaN', 'Infinity', '-Infinity', '0x1A', '0b11', '1_000', ' 7 ',
  '9'.repeat(19), '9'.repeat(20), '9'.repeat(400), '9223372036854775807', '9223372036854775808', '-9223372036854775808', '18446744073709551616',
  '2018-08-19', '2018-02-30T00:00:00Z', '2018-08-19T25:61:61Z', '2458349.75', '2458349.75.1', '0000000', '24583497', '99999999', '20181301', '00000000',
  'ZTF18aabqtud\u0301', 'ZTF18aab\u0000qtud', '\u{1F600}', '\uFEFF', '\uD800', 'Ω≈ç√', "' OR 1=1 --", '<script>', '${7*7}', '{{7*7}}',
];

/** A wrong (or, by chance, right) value for any parameter. */
function fuzzValue(rnd: FuzzRandom): string {
  const r = rnd.int(10);
  if (r < 5) return rnd.pick(TRICKY);
  if (r < 8) return randomText(rnd, 40);
  if (r < 9) return rnd.pick(['a', '9', '%41', 'ZTF', '\u00e9']).repeat(rnd.pick([100, 1000, 3000]));
  return String(rnd.pick([rnd.float() * 1e6 - 5e5, -rnd.int(1e9), rnd.int(1e9), 2 ** rnd.int(80)]));
}

// ---------------------------------------------------------------------------------------------------
// The document

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Record<string, unknown>;
}
interface Operation {
  operationId: string;
  parameters: Parameter[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security: unknown[];
}
type Doc = { paths: Record<string, Record<string, Operation>> };

interface Sent {
  label: string;
  method: string;
  answer: RawAnswer | 'hung' | 'closed';
  /** The documented operation the request was aimed at, if any. */
  operation?: string;
}

describe(`HTTP API fuzz (seed ${SEED})`, () => {
  let data: ApiArchive;
  let replayArchive: Archive;
  let replays: ReplayRegistry;
  let open: ApiServer;
  let closed: ApiServer;
  let doc: Doc;
  const replayTopic = `zads-test-fuzz-${randomUUID().slice(0, 8)}`;
  const replayId = `fuzz-${randomUUID().slice(0, 8)}`;
  const sent: Sent[] = [];
  let samples: Record<string, string[]>;

  beforeAll(async () => {
    data = await buildArchive();
    replayArchive = await openArchive({ dataDir: data.dataDir });
    replays = new ReplayRegistry({ archive: replayArchive, target: cluster(UW_BROKERS), policy: new ReplayTargetPolicy({ allowedTopics: ['{nightTopic}_replay', 'zads-test-*'] }), maxActive: 64 });
    // No rate limit on the first server, so every case reaches its route; a tight one on the second, so the
    // limiter meets the fuzzed tokens and addresses too (its 429 is an answer like any other).
    open = await startApi(data.dataDir, { replays, config: { tokens: TOKENS, rateLimit: { windowSeconds: 60, maxRequests: 0 } } });
    closed = await startApi(data.dataDir, { config: { tokens: TOKENS, publicReads: false, rateLimit: { windowSeconds: 60, maxRequests: 300 } } });
    doc = (await (await fetch(`${open.url}/v1/openapi.json`)).json()) as Doc;
    const candids = [...data.sample, ...data.files, data.big, ...data.later].map((a) => a.candid.toString());
    samples = {
      candid: [...candids, '1', '0', '9223372036854775807'],
      objectId: [...new Set([...data.sample, ...data.files, data.big].map((a) => a.objectId)), 'ZTF99nothing'],
      night: [SAMPLE_NIGHT, LATER_NIGHT, FILES_NIGHT, BIG_NIGHT, '20000101'],
      folder: ['public', 'partnership', 'programid3', 'programid0', 'private'],
      file: [`ztf_public_${SAMPLE_NIGHT}.tar.gz`, 'MD5SUMS', `ztf_partnership_${BIG_NIGHT}.tar.gz`, `ztf_public_${LATER_NIGHT}.tar.gz`, 'ztf_public_2018.tar.gz'],
      kind: ['science', 'template', 'difference', 'other'],
      format: ['fits', 'png', 'json', 'csv', 'avro', 'jpg'],
      id: [replayId, 'no-such-replay'],
      programid: ['1', '2', '3', '0', '9999'],
      from: ['2458349.5', '2018-08-19T06:00:00Z', '2018-08-19'],
      to: ['2458350.5', '2018-08-20T00:00:00Z', '2458349.6'],
      fid: ['1', '2', '3'],
      limit: ['1', '2', '10', '10000'],
      cursor: ['eyJ2IjoxfQ', 'AAAA'],
      ra: ['0', '359.99', '180', String(data.sample[0]!.decoded.alert.candidate.ra)],
      dec: ['-90', '90', '0', String(data.sample[0]!.decoded.alert.candidate.dec)],
      radius: ['0.0001', '0.5', '1'],
      state: ['open', 'closed'],
      cutouts: ['omit', 'base64'],
      fields: ['candid', 'candid,jd,ra', 'jd,jd', ''],
    };
  });

  afterAll(async () => {
    await open?.stop();
    await closed?.stop();
    await replayArchive?.close();
    await deleteTopics(uw, [replayTopic]).catch(() => undefined);
    data?.cleanup();
  });

  const valueFor = (rnd: FuzzRandom, p: Parameter): string => {
    const known = samples[p.name];
    const s = p.schema;
    if (known && rnd.chance(0.6)) return rnd.pick(known);
    if (Array.isArray(s.enum) && rnd.chance(0.5)) return String(rnd.pick(s.enum as unknown[]));
    if (Array.isArray(s.examples) && rnd.chance(0.3)) return String(rnd.pick(s.examples as unknown[]));
    return fuzzValue(rnd);
  };

  /** Mostly a token the operation accepts (so the request gets past it), else any of many wrong ones. */
  const authorization = (rnd: FuzzRandom, secured: boolean): string | undefined => {
    if (rnd.chance(0.7)) return rnd.pick(secured ? [`Bearer ${REPLAY_TOKEN}`, `Bearer ${ADMIN_TOKEN}`, `bearer   ${ADMIN_TOKEN}`] : [undefined, `Bearer ${READ_TOKEN}`, `Bearer ${ADMIN_TOKEN}`]);
    return rnd.pick([
      () => undefined,
      () => `Bearer ${READ_TOKEN}`,
      () => `Bearer ${REPLAY_TOKEN}`,
      () => `Bearer ${ADMIN_TOKEN}x`,
      () => 'Bearer',
      () => 'Bearer ',
      () => `Bearer ${'x'.repeat(rnd.pick([512, 513, 4000]))}`,
      () => `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      () => `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`,
      () => `Bearer ${component(rnd, fuzzValue(rnd))}`,
      () => 'Bearer \u00e9\u00e8',
      () => '',
    ])();
  };

  /** A replay request body: valid-looking objects with fields made wrong, or not JSON at all. */
  const replayBody = (rnd: FuzzRandom): { body: Buffer; type: string | undefined } => {
    const type = rnd.chance(0.75)
      ? rnd.pick(['application/json', 'application/json; charset=utf-8', 'Application/JSON'])
      : rnd.pick<string | undefined>(['application/json; charset=utf-7', 'application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', undefined, 'application/jsonx', '*/*', 'application/json; boundary=x; x', '']);
    const r = rnd.int(10);
    if (r === 0) return { body: Buffer.from(randomText(rnd, 200)), type };
    if (r === 1) return { body: Buffer.from(rnd.pick(['', 'null', '[]', '"x"', '42', 'true', '{', '{"night":', '{"a":1}}', '\uFEFF{}', '{"night":"20180819"}'.repeat(2)])), type };
    if (r === 2) return { body: Buffer.from(`{"night":"${SAMPLE_NIGHT}","objectIds":[${'"ZTF18aabqtud",'.repeat(rnd.pick([10, 2000]))}"x"]}`), type };
    if (r === 3) return { body: Buffer.from('['.repeat(rnd.pick([100, 10_000])) + ']'.repeat(rnd.pick([0, 100, 10_000]))), type };
    const body: Record<string, unknown> = {
      night: rnd.pick([SAMPLE_NIGHT, LATER_NIGHT, '20000101']),
      topic: replayTopic,
      id: rnd.chance(0.5) ? replayId : undefined,
      pacing: { mode: 'rate', alertsPerSec: 20 },
      maxAlerts: rnd.between(1, 3),
      partitions: rnd.between(1, 2),
    };
    const fields = ['id', 'night', 'programid', 'from', 'to', 'objectIds', 'topic', 'partitions', 'pacing', 'maxAlerts', 'extra', '__proto__', 'constructor'];
    const changes = rnd.between(1, 3);
    for (let i = 0; i < changes; i++) {
      const f = rnd.pick(fields);
      body[f] = rnd.pick<() => unknown>([
        () => undefined,
        () => null,
        () => fuzzValue(rnd),
        () => rnd.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 257, 1e9]),
        () => rnd.pick([true, [], {}, [1, 2], { mode: 'max' }, { mode: 'rate' }, { mode: 'rate', alertsPerSec: -5 }, { mode: 'speed', factor: 1e9 }, { mode: 'warp' }]),
        () => rnd.pick([2458349.6, '2018-08-19T06:00:00Z', '2458349.5', 2_000_000, 3e6]),
        () => [rnd.pick(['ZTF18aabqtud', '', 'bad id', 42])],
      ])();
      // A topic name that is valid but not ours would create that topic on the shared broker.
      if (f === 'topic' && typeof body.topic === 'string' && /^[A-Za-z0-9._-]{1,200}$/.test(body.topic)) body.topic = replayTopic;
      if (f === 'partitions' && typeof body.partitions === 'number' && body.partitions >= 1 && body.partitions <= 256) body.partitions = 1;
    }
    if (body.topic === undefined) body.topic = replayTopic;
    let text = JSON.stringify(body);
    if (rnd.chance(0.05)) text = text + ' '.repeat(20_000);
    return { body: Buffer.from(text), type };
  };

  /** One request aimed at a documented operation, with some part of it made wrong. */
  const operationCase = (rnd: FuzzRandom, path: string, method: string, op: Operation): { head: string; body?: Buffer; label: string; method: string; port: number } => {
    let m = method.toUpperCase();
    if (rnd.chance(0.1)) m = rnd.pick(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']);
    const params = new Map<string, string>();
    let target = path.replace(/\{([^}]+)\}/g, (_s, name: string) => {
      const p = op.parameters.find((x) => x.name === name && x.in === 'path')!;
      const v = valueFor(rnd, p);
      params.set(name, v);
      return component(rnd, v);
    });
    const query: string[] = [];
    for (const p of op.parameters.filter((x) => x.in === 'query')) {
      const include = p.required ? rnd.chance(0.9) : rnd.chance(0.4);
      if (!include) continue;
      const times = rnd.chance(0.08) ? 2 : 1;
      for (let i = 0; i < times; i++) query.push(`${rnd.chance(0.03) ? component(rnd, `${p.name}[]`) : p.name}=${component(rnd, valueFor(rnd, p))}`);
    }
    if (rnd.chance(0.1)) query.push(`${component(rnd, rnd.pick(['x', '__proto__', 'constructor[prototype][x]', 'a[b]', '', fuzzValue(rnd)]))}=${component(rnd, fuzzValue(rnd))}`);
    if (rnd.chance(0.05)) query.push(rnd.pick(['&&&', '=', '==', '&=&', '%', 'a=%zz', 'a']));
    if (query.length > 0) target += `?${query.join('&')}`;
    if (rnd.chance(0.03)) target += rnd.pick(['/', '//', '/..', '#frag', '%00']);
    const headers: string[] = [];
    const port = op.security.length > 0 || rnd.chance(0.7) || path.startsWith('/v1/replays') ? open.port : closed.port;
    const auth = authorization(rnd, op.security.length > 0 || port === closed.port);
    if (auth !== undefined) headers.push(`Authorization: ${auth}`);
    if (rnd.chance(0.3)) headers.push(`Accept: ${rnd.pick(['application/avro', 'avro/binary', 'application/json', 'text/html', '*/*', 'image/png;q=0', 'application/json;q=0, */*;q=0', '', fuzzValue(rnd).replace(/[\r\n\0]/g, '')])}`);
    if (path.startsWith('/alerts/') || rnd.chance(0.1)) {
      const tag = rnd.pick(['"x"', '*', 'W/"x"', '"', '', '"a", "b"']);
      if (rnd.chance(0.6)) headers.push(`Range: ${rnd.pick(['bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=-0', 'bytes=5-1', 'bytes=99999999999-', 'bytes=0-99999999999999999999', 'bytes=1-2,3-4', 'bytes=', 'bytes=-', 'items=0-1', 'bytes=abc', `bytes=${'9'.repeat(400)}-`, 'bytes=-99999999999', 'bytes =0-1', 'bytes=0x10-'])}`);
      if (rnd.chance(0.2)) headers.push(`If-Range: ${rnd.pick([tag, 'Mon, 01 Jan 1990 00:00:00 GMT', 'yesterday'])}`);
      if (rnd.chance(0.15)) headers.push(`If-Match: ${tag}`);
      if (rnd.chance(0.15)) headers.push(`If-None-Match: ${tag}`);
      if (rnd.chance(0.15)) headers.push(`If-Modified-Since: ${rnd.pick(['Mon, 01 Jan 1990 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', 'garbage', '0'])}`);
    }
    let body: Buffer | undefined;
    if (m === 'POST' || m === 'PUT' || m === 'PATCH' || (m !== 'HEAD' && rnd.chance(0.05))) {
      const b = op.requestBody ? replayBody(rnd) : { body: Buffer.from(randomText(rnd, 100)), type: 'application/json' };
      body = b.body;
      if (b.type !== undefined) headers.push(`Content-Type: ${b.type}`);
      if (rnd.chance(0.05)) headers.push(`Content-Encoding: ${rnd.pick(['gzip', 'deflate', 'br', 'identity', 'x-unknown'])}`);
      headers.push(`Content-Length: ${body.length}`);
    }
    const label = `${m} ${target.length > 300 ? `${target.slice(0, 300)}…(${target.length})` : target} [${headers.filter((h) => !h.startsWith('Content-Length')).join('; ').slice(0, 300)}]${body ? ` body ${body.subarray(0, 120).toString()}` : ''} → ${port === open.port ? 'public' : 'token-only'} server`;
    return { head: `${m} ${target} HTTP/1.1${headers.length ? `\r\n${headers.join('\r\n')}` : ''}`, body, label, method: m, port };
  };

  /** Requests aimed at nothing in particular: random paths, methods, and HTTP that is barely HTTP. */
  const rawCase = (rnd: FuzzRandom): { head: string; body?: Buffer; label: string; method: string } => {
    const paths = Object.keys(doc.paths);
    const method = rnd.pick(['GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'get', 'G\u00c9T', 'GET /', '']);
    const segments = rnd.between(0, 5);
    let target = rnd.pick([
      () => `/${Array.from({ length: segments }, () => component(rnd, rnd.chance(0.5) ? fuzzValue(rnd) : rnd.pick(['v1', 'alerts', 'objects', 'cone', 'nights', 'replays', 'public', 'cutouts', 'web']))).join('/')}`,
      () => rnd.pick(paths).replace(/\{[^}]+\}/g, () => component(rnd, fuzzValue(rnd))),
      () => rnd.pick(['/v1/nights/', '//v1//nights', '/v1/./nights', '/v1/../v1/nights', '/V1/NIGHTS', '/v1/nights%2F', '/%2e%2e/%2e%2e/etc/passwd', '/alerts/public/../../catalogue.sqlite', '/alerts/public/%2e%2e%2fcatalogue.sqlite', '*', 'http://127.0.0.1/v1/nights', '/v1/nights?' + 'a=1&'.repeat(2000), '/' + 'a'.repeat(rnd.pick([1000, 8000]))]),
    ])();
    if (target === '') target = '/';
    const headers = rnd.pick([
      [],
      ['Content-Length: -1'],
      ['Transfer-Encoding: chunked'],
      ['Content-Length: 5', 'Transfer-Encoding: chunked'],
      ['Expect: 100-continue'],
      ['X-Forwarded-For: 1.2.3.4, ::1, garbage'],
      [`Cookie: ${'a=b; '.repeat(200)}`],
      ['Authorization: Bearer'],
      [`X-Fuzz: ${'x'.repeat(rnd.pick([100, 20_000]))}`],
    ]);
    const body = headers.includes('Transfer-Encoding: chunked') ? Buffer.from(rnd.pick(['0\r\n\r\n', 'zz\r\nxx\r\n', '5\r\nhello\r\n0\r\n\r\n'])) : undefined;
    const label = `${method} ${target.slice(0, 200)}${target.length > 200 ? `…(${target.length})` : ''} [${headers.map((h) => h.slice(0, 60)).join('; ')}]`;
    return { head: `${method} ${target} HTTP/1.1${headers.length ? `\r\n${headers.join('\r\n')}` : ''}`, body, label, method: method.toUpperCase() };
  };

  /** What is wrong with an answer: a 5xx, a 4xx without the JSON error body, no answer at all. */
  function problems(s: Sent, malformed: boolean): string[] {
    if (s.answer === 'hung') return ['no answer (hung)'];
    if (s.answer === 'closed') return malformed ? [] : ['connection closed without an answer'];
    const { status, headers, body } = s.answer;
    const out: string[] = [];
    if (status >= 500 || status < 100) out.push(`status ${status}: ${body.subarray(0, 300).toString()}`);
    if (status >= 400 && status < 500) {
      if (!/^application\/json/.test(headers.get('content-type') ?? '')) out.push(`${status} with content-type ${headers.get('content-type')}: ${body.subarray(0, 200).toString()}`);
      else if (s.method !== 'HEAD') {
        let e: { error?: { code?: unknown; message?: unknown } } | undefined;
        try {
          e = JSON.parse(body.toString('utf8')) as typeof e;
        } catch {
          out.push(`${status} body is not JSON: ${body.subarray(0, 200).toString()}`);
        }
        if (e && (typeof e.error?.code !== 'string' || typeof e.error.message !== 'string' || e.error.message.length === 0)) {
          out.push(`${status} body is not {error:{code,message}}: ${body.subarray(0, 200).toString()}`);
        }
      }
    }
    return out;
  }

  async function healthy(): Promise<boolean> {
    const a = await send(open.port, 'GET /healthz HTTP/1.1');
    const b = await send(closed.port, 'GET /healthz HTTP/1.1');
    return a !== 'hung' && a !== 'closed' && a.status === 200 && b !== 'hung' && b !== 'closed' && b.status === 200;
  }

  it(`${CASES_PER_OPERATION} requests at every documented operation: never a 5xx, every 4xx a JSON error, the server up`, async () => {
    const failures: string[] = [];
    const statuses = new Map<string, Map<number, number>>();
    let index = 0;
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThan(15);
    // One replay the fuzzed status and control requests can find by its id.
    const started = await send(
      open.port,
      `POST /v1/replays HTTP/1.1\r\nAuthorization: Bearer ${REPLAY_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${JSON.stringify({ id: replayId, night: SAMPLE_NIGHT, topic: replayTopic, partitions: 1, maxAlerts: 5, pacing: { mode: 'rate', alertsPerSec: 1 } }).length}`,
      Buffer.from(JSON.stringify({ id: replayId, night: SAMPLE_NIGHT, topic: replayTopic, partitions: 1, maxAlerts: 5, pacing: { mode: 'rate', alertsPerSec: 1 } })),
    );
    expect(started).toMatchObject({ status: 201 });
    for (const { path, method, op } of operations) {
      for (let i = 0; i < CASES_PER_OPERATION; i++) {
        const rnd = caseRandom(SEED, index++);
        const c = operationCase(rnd, path, method, op);
        const s: Sent = { label: c.label, method: c.method, answer: await send(c.port, c.head, c.body, c.method), operation: op.operationId };
        sent.push(s);
        for (const p of problems(s, false)) failures.push(`case ${index - 1} (seed ${SEED}) ${s.label}: ${p}`);
        if (typeof s.answer === 'object') {
          const byStatus = statuses.get(op.operationId) ?? new Map<number, number>();
          byStatus.set(s.answer.status, (byStatus.get(s.answer.status) ?? 0) + 1);
          statuses.set(op.operationId, byStatus);
        }
      }
      expect(await healthy(), `the servers answer /healthz after ${op.operationId}`).toBe(true);
    }
    const summary = [...statuses].map(([id, m]) => `${id} ${[...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    process.stdout.write(`[fuzz] statuses by operation:\n  ${summary.join('\n  ')}\n`);
    const undocumented = [...statuses].flatMap(([id, m]) => {
      const op = operations.find((o) => o.op.operationId === id)!.op;
      return [...m.keys()].filter((s) => !(String(s) in op.responses)).map((s) => `${id}: ${s}`);
    });
    if (undocumented.length > 0) process.stdout.write(`[fuzz] answers the document does not list: ${undocumented.join(', ')}\n`);
    expect(failures.slice(0, 20)).toEqual([]);
    // The fuzzer got past validation too: every operation answered at least one request with a 2xx.
    for (const [id, m] of statuses) expect([...m.keys()].some((s) => s >= 200 && s < 300), `${id} never succeeded`).toBe(true);
  });

  it(`${RAW_CASES} requests at no operation: random paths and methods, malformed HTTP; still no 5xx and JSON errors`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < RAW_CASES; i++) {
      const rnd = caseRandom(SEED ^ 0x5eed, i);
      const c = rawCase(rnd);
      const s: Sent = { label: c.label, method: c.method, answer: await send(open.port, c.head, c.body, c.method) };
      sent.push(s);
      for (const p of problems(s, true)) failures.push(`raw case ${i} (seed ${SEED}) ${s.label}: ${p}`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(await healthy()).toBe(true);
  });

  describe('regressions found by the fuzzer', () => {
    const errorOf = (a: Awaited<ReturnType<typeof send>>) => {
      if (typeof a !== 'object') throw new Error(`no answer: ${a}`);
      expect(a.headers.get('content-type') ?? '', `${a.status} with body "${a.body.toString()}"`).toMatch(/^application\/json/);
      return { status: a.status, ...(JSON.parse(a.body.toString('utf8')) as { error: { code: string; message: string } }).error };
    };

    it('a request node cannot parse gets a JSON 4xx like every other error, not a bare 400 or 431', async () => {
      // Node answers these itself, before express sees them: "HTTP/1.1 400 Bad Request" and nothing else.
      expect(errorOf(await send(open.port, 'G\u00c9T /v1/nights HTTP/1.1'))).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
      expect(errorOf(await send(open.port, 'GET /v1/nights HTTP/1.1\r\nAccept: a\u0001b'))).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
      expect(errorOf(await send(open.port, 'POST /v1/replays HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked'))).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
      expect(errorOf(await send(open.port, `GET /v1/nights HTTP/1.1\r\nX-Big: ${'x'.repeat(20_000)}`))).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
      expect(await healthy()).toBe(true);
    });

    it('a method other than GET or HEAD under /web/ gets the JSON 404 of any unknown route, not a bare 405', async () => {
      // serve-static answered "405 Method Not Allowed" with no body.
      for (const method of ['POST', 'PUT', 'DELETE', 'PROPFIND']) {
        expect(errorOf(await send(open.port, `${method} /web/style.css HTTP/1.1\r\nContent-Length: 0`))).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
      }
      const css = await send(open.port, 'GET /web/style.css HTTP/1.1');
      expect(css).toMatchObject({ status: 200 });
    });
  });
});
