import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createDeflateRaw, createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iterateTarStream, readContainer } from '../../src/alert/index.ts';
import { isZadsError } from '../../src/errors.ts';
import { SAMPLE_TARBALL, TRAILING_GARBAGE_FILE, V33_FILE, goodAlertFiles } from '../helpers/data.ts';
import {
  DecoderProcess,
  buildContainer,
  caseRandom,
  cloneParts,
  codecCase,
  contractViolations,
  encodeLong,
  fuzzSeed,
  locateVarints,
  mutateBytes,
  parseContainer,
  realSeeds,
  splice,
} from '../helpers/fuzz/index.ts';
import type { FuzzRandom, Lost, Outcome, Seed } from '../helpers/fuzz/index.ts';

/*
 * The codec against thousands of damaged inputs: random bytes, and real ZTF alerts mutated blindly
 * (bit flips, byte runs, cuts, repeated and removed ranges) and with knowledge of their structure
 * (length fields and counts set to edge values, schema text tampered with, block framing, codecs,
 * Confluent frames). Every input must decode to usable alerts or be refused with a ZadsError that has a
 * code and a reason; decoding runs in a worker thread so a hang or a heap blow-up is named, not suffered.
 */

const SEED = fuzzSeed('codec', 20_240_610);
const CASES = 5000;
const TAR_CASES = 80;
/** A decode this long without an answer is a hang (a real alert decodes in well under a millisecond). */
const HANG_MS = 10_000;
/** Hangs and crashes after which the run stops: each costs a watchdog period, and a few make the point. */
const MAX_LOST = 3;

type Result = Outcome | Lost;

function problemsOf(r: Result, inputLength: number): string[] {
  if (r.kind === 'hung' || r.kind === 'crashed') return [`${r.kind}: ${r.message}`];
  return contractViolations(r, inputLength);
}

let decoder: DecoderProcess;
const seeds: Seed[] = [];
let tar: Buffer;
const tarMembers = new Map<string, string>();

beforeAll(async () => {
  decoder = new DecoderProcess({ hangMs: HANG_MS });
  seeds.push(...(await realSeeds()));
  tar = gunzipSync(readFileSync(SAMPLE_TARBALL));
  for await (const m of iterateTarStream(Readable.from([tar]), 'sample')) tarMembers.set(m.name, createHash('sha256').update(m.bytes).digest('hex'));
});

afterAll(async () => {
  await decoder?.close();
});

describe(`codec fuzz (seed ${SEED})`, () => {
  it(`${CASES} mutated and random messages: each decodes to usable alerts or is refused with a ZadsError, code and reason`, async () => {
    const tally = new Map<string, number>();
    const failures: string[] = [];
    const window: Promise<void>[] = [];
    let lost = 0;
    for (let i = 0; i < CASES && lost < MAX_LOST; i++) {
      const c = codecCase(caseRandom(SEED, i), seeds);
      const lookup = c.lookup ? [...c.lookup.known.entries()] : undefined;
      window.push(
        decoder.decode(c.bytes, lookup).then((r) => {
          if (r.kind === 'hung' || r.kind === 'crashed') lost++;
          const key = r.kind === 'alerts' ? `decoded ${r.count === 1 ? '1 alert' : `${r.count} alerts`}` : r.kind === 'error' ? (r.code ?? r.name) : r.kind;
          tally.set(key, (tally.get(key) ?? 0) + 1);
          for (const p of problemsOf(r, c.bytes.length)) failures.push(`case ${i} (seed ${SEED}) ${c.label}: ${p}`);
        }),
      );
      // A few requests in flight keep both cores busy: this thread mutates while the worker decodes.
      if (window.length >= 8) await window.shift();
    }
    await Promise.all(window);
    process.stdout.write(`[fuzz] codec outcomes: ${JSON.stringify(Object.fromEntries([...tally].sort()))}\n`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(decoder.starts).toBe(1);
    expect([...tally.values()].reduce((a, b) => a + b, 0), 'cases run').toBe(CASES);
    // The run reached every way of ending: alerts that survived their mutation and every refusal.
    const seen = [...tally.keys()];
    expect(seen).toContain('decoded 1 alert');
    for (const code of ['ALERT_NOT_CONTAINER', 'ALERT_TRUNCATED', 'ALERT_CORRUPT', 'ALERT_NOT_ZTF', 'ALERT_CODEC_UNSUPPORTED', 'SCHEMA_INVALID', 'SCHEMA_UNKNOWN']) {
      expect(seen, code).toContain(code);
    }
    // Room for a few hangs to be caught and named (each takes HANG_MS) before the run gives up.
  }, 300_000);

  it(`${TAR_CASES} damaged night tarballs: members come out whole or the stream ends with ARCHIVE_CORRUPT`, async () => {
    const failures: string[] = [];
    let corrupt = 0;
    let changedMembers = 0;
    for (let i = 0; i < TAR_CASES; i++) {
      const rnd = caseRandom(SEED ^ 0x7a7, i);
      const { gz, label } = damagedTarball(rnd);
      const members: { name: string; bytes: Buffer }[] = [];
      let error: unknown;
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hung'>((resolve) => {
        timer = setTimeout(() => resolve('hung'), HANG_MS);
      });
      const read = (async () => {
        try {
          for await (const m of iterateTarStream(Readable.from([gz]).pipe(createGunzip()), `case-${i}.tar.gz`)) members.push(m);
        } catch (err) {
          error = err;
        }
      })();
      const ended = await Promise.race([read, hang]);
      clearTimeout(timer);
      const where = `tar case ${i} (seed ${SEED}) ${label}`;
      if (ended === 'hung') {
        failures.push(`${where}: hung`);
        continue;
      }
      if (error !== undefined) {
        if (isZadsError(error, 'ARCHIVE_CORRUPT')) corrupt++;
        else failures.push(`${where}: ended with ${isZadsError(error) ? error.code : String(error)}`);
      }
      // Members the damage changed go through the codec like any message.
      for (const m of members) {
        if (tarMembers.get(m.name) === createHash('sha256').update(m.bytes).digest('hex')) continue;
        changedMembers++;
        for (const p of problemsOf(await decoder.decode(m.bytes), m.bytes.length)) failures.push(`${where}: member ${m.name}: ${p}`);
      }
    }
    process.stdout.write(`[fuzz] tarballs: ${corrupt} of ${TAR_CASES} refused as ARCHIVE_CORRUPT, ${changedMembers} changed members decoded\n`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(corrupt).toBeGreaterThan(0);
  });
});

/** The sample night tarball, damaged in its gzip bytes, in its tar headers, or cut. */
function damagedTarball(rnd: FuzzRandom): { gz: Buffer; label: string } {
  const r = rnd.int(4);
  if (r === 0) {
    const m = mutateBytes(rnd, gzipSync(tar, { level: 1 }));
    return { gz: m.bytes, label: `gzip bytes: ${m.label}` };
  }
  if (r === 1) {
    // A tar header field (name, mode, size, checksum, type, ustar magic) of one of the first members.
    const copy = Buffer.from(tar);
    const headers: number[] = [];
    for (let at = 0; at + 512 <= copy.length && headers.length < 8; ) {
      const size = Number.parseInt(copy.subarray(at + 124, at + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
      if (!Number.isFinite(size) || copy[at] === 0) break;
      headers.push(at);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    const at = rnd.pick(headers);
    const [field, off, len] = rnd.pick([
      ['name', 0, 100],
      ['mode', 100, 8],
      ['size', 124, 12],
      ['checksum', 148, 8],
      ['type', 156, 1],
      ['linkname', 157, 100],
      ['magic', 257, 6],
      ['prefix', 345, 155],
    ] as const);
    const value = rnd.pick([
      () => Buffer.alloc(len, 0xff),
      () => Buffer.alloc(len, 0),
      () => Buffer.from('77777777777'.slice(0, len)),
      () => Buffer.concat([Buffer.from([0x80]), Buffer.alloc(len - 1, 0xff)]),
      () => Buffer.from(rnd.pick(['x', 'g', '5', '2', 'L', 'K', '1', '0']).repeat(len).slice(0, len)),
      () => rnd.bytes(len),
    ])();
    value.copy(copy, at + off, 0, len);
    return { gz: gzipSync(copy, { level: 1 }), label: `tar header ${field} of the member at ${at} → ${value.subarray(0, 12).toString('hex')}` };
  }
  if (r === 2) {
    const m = mutateBytes(rnd, tar);
    return { gz: gzipSync(m.bytes, { level: 1 }), label: `tar bytes: ${m.label}` };
  }
  const cut = rnd.int(tar.length);
  return { gz: gzipSync(tar.subarray(0, cut), { level: 1 }), label: `tar cut at ${cut}` };
}

describe('regressions found by the fuzzer', () => {
  const v33 = readFileSync(V33_FILE);
  const decoded = readContainer(v33)[0]!;
  const schemaJson = JSON.parse(decoded.schema.text) as Parameters<typeof locateVarints>[0];

  async function outcome(bytes: Buffer): Promise<Result> {
    return decoder.decode(bytes);
  }

  it('a header whose metadata count is a varint of more than 64 bits is refused, not read for ever', async () => {
    // avsc read the count as ~1e21 and looped over it: one message hung the reader.
    const bytes = splice(v33, 4, 5, Buffer.concat([Buffer.alloc(11, 0xff), Buffer.from([0x01])]));
    const r = await outcome(bytes);
    expect(problemsOf(r, bytes.length)).toEqual([]);
    expect(r).toMatchObject({ kind: 'error', code: 'ALERT_CORRUPT', message: 'container header is damaged' });
  });

  it('a record cut after a prv_candidates count of 2^31 - 1 is refused before any item is read', async () => {
    // avsc read two billion items one by one past the end of the data: a read there costs little, throws
    // nothing and ends nothing, so one message held the reader for hours.
    const parts = cloneParts(parseContainer(v33));
    const block = parts.blocks[0]!;
    const count = locateVarints(schemaJson, block.data).varints.find((v) => v.kind === 'count' && v.path === '.prv_candidates')!;
    block.data = Buffer.concat([block.data.subarray(0, count.pos), encodeLong(2n ** 31n - 1n)]);
    const bytes = buildContainer(parts);
    const r = await outcome(bytes);
    expect(problemsOf(r, bytes.length)).toEqual([]);
    expect(r).toMatchObject({ kind: 'error', code: 'ALERT_CORRUPT' });
    expect((r as { message: string }).message).toMatch(/array block count \d+ is more than the \d+ bytes left/);
  });

  it('a deflate block that would inflate to gigabytes is refused at the limit', async () => {
    // 1 GiB of zeros deflates to about 1 MB: without a bound, one message allocated the whole of it.
    const deflate = createDeflateRaw({ level: 1 });
    const chunks: Buffer[] = [];
    deflate.on('data', (c: Buffer) => chunks.push(c));
    const zeros = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < 64; i++) if (!deflate.write(zeros)) await new Promise((resolve) => deflate.once('drain', resolve));
    await new Promise((resolve) => deflate.end(resolve));
    const parts = cloneParts(parseContainer(v33));
    parts.meta = [...parts.meta.filter(([k]) => k !== 'avro.codec'), ['avro.codec', Buffer.from('deflate')]];
    parts.blocks[0]!.data = Buffer.concat(chunks);
    const bytes = buildContainer(parts);
    const r = await outcome(bytes);
    expect(problemsOf(r, bytes.length)).toEqual([]);
    expect(r).toMatchObject({ kind: 'error', code: 'ALERT_CORRUPT' });
    expect((r as { message: string }).message).toMatch(/inflates to more than 67108864 bytes/);
  });

  it('a container file with no alert is refused as a message, not passed on as zero alerts', async () => {
    // The archive appended such a message to a segment and recorded nothing: neither archived nor quarantined.
    const parts = cloneParts(parseContainer(v33));
    parts.blocks = [];
    const r = await outcome(buildContainer(parts));
    expect(r).toMatchObject({ kind: 'error', code: 'ALERT_NOT_ZTF', message: 'message is an Avro container file with no alert in it' });
  });

  it('a schema that renames candidate.ra, or retypes fid as long, still decodes but is refused as not a ZTF alert', async () => {
    // The catalogue then met a candidate without ra (or a bigint fid) and the ingest batch failed on it.
    for (const [edit, reason] of [
      [(t: string) => t.replace('"name": "ra"', '"name": "ra_"'), /candidate\.ra is missing/],
      [(t: string) => t.replace(/("type": "int", "name": "fid")|("name": "fid", "type": "int")/, (m) => m.replace('"int"', '"long"')), /candidate\.fid is a bigint/],
      [(t: string) => t.replace(/"type": "double", "name": "dec"|"name": "dec", "type": "double"/, (m) => m.replace('"double"', '{"type": "fixed", "name": "D8", "size": 8}')), /candidate\.dec is a byte string/],
    ] as const) {
      const parts = cloneParts(parseContainer(v33));
      const text = edit(decoded.schema.text);
      expect(text).not.toBe(decoded.schema.text);
      parts.meta = parts.meta.map(([k, v]) => [k, k === 'avro.schema' ? Buffer.from(text) : v]);
      const r = await outcome(buildContainer(parts));
      expect(r).toMatchObject({ kind: 'error', code: 'ALERT_NOT_ZTF' });
      expect((r as { message: string }).message).toMatch(reason);
    }
  });

  it('the real files still decode as before', async () => {
    for (const f of goodAlertFiles()) {
      const r = await outcome(readFileSync(f.path));
      if (f.path === TRAILING_GARBAGE_FILE) expect(r).toMatchObject({ kind: 'error', code: 'ALERT_CORRUPT' });
      else expect(r).toMatchObject({ kind: 'alerts', count: 1, candids: [f.candid], problems: [] });
    }
  });
});
