import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeflatePool, FileSink, ParallelGzip, TarGzWriter } from '../../src/alert/index.ts';
import type { TarGzSummary } from '../../src/alert/index.ts';
import { fastavroCandids, realAlerts, renumbered, run } from '../helpers/archive.ts';
import type { RealAlert } from '../helpers/archive.ts';
import { venvPython } from '../helpers/python.ts';
import { pythonTarball } from '../helpers/tarfile.ts';

const dir = mkdtempSync(join(tmpdir(), 'zads-targz-'));
/** Three workers on a machine of any size: blocks are handed round more workers than most CI runners have cores. */
const pool = new DeflatePool({ workers: 3 });
/** The smallest block the writer allows (one deflate window): ~170 block edges over these members. */
const SMALL_BLOCK = 32 * 1024;
const DATE = new Date(Date.UTC(2018, 7, 19, 8, 0, 0));

afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function write(path: string, members: readonly RealAlert[], options: { level?: number; blockBytes?: number; pool?: DeflatePool; storeIncompressible?: boolean }): Promise<TarGzSummary> {
  const sink = await FileSink.create(path);
  const writer = new TarGzWriter(sink, { pool, md5: true, ...options });
  for (const a of members) await writer.add({ name: `${a.candid}.avro`, bytes: a.bytes, date: DATE });
  const summary = await writer.finish();
  await sink.finish();
  return summary;
}

describe('TarGzWriter: one gzip stream deflated on several workers', () => {
  let alerts: RealAlert[];
  beforeAll(async () => {
    const real = await realAlerts();
    // The real alerts and renumbered copies: 120 members of 40–200 KB, ~5.5 MB of tar.
    alerts = [...real, ...renumbered(real, 78, 700_000_000_000_000_000n)];
  });

  it('GNU tar, Python tarfile and gzip, and fastavro read every member back, across ~170 block edges', async () => {
    const path = join(dir, 'small-blocks.tar.gz');
    const summary = await write(path, alerts, { blockBytes: SMALL_BLOCK });
    const tarBytes = summary.inputBytes;
    expect(tarBytes / SMALL_BLOCK).toBeGreaterThan(pool.size * 20);
    const file = readFileSync(path);
    expect(summary).toMatchObject({ members: alerts.length, sizeBytes: file.length, md5: createHash('md5').update(file).digest('hex') });

    run('gzip', ['-t', path]);
    const listed = run('tar', ['-tvzf', path]).trim().split('\n');
    expect(listed).toHaveLength(alerts.length);
    expect(listed.every((l) => /^-rw-r--r-- 0\/0 +\d+ 2018-08-19 08:00 \d+\.avro$/.test(l))).toBe(true);

    const py = pythonTarball(path);
    expect(py.tarBytes).toBe(tarBytes);
    expect(py.members).toEqual(alerts.map((a) => ({ name: `${a.candid}.avro`, size: a.bytes.length, mode: 0o644, mtime: DATE.getTime() / 1000, file: true, sha256: sha256(a.bytes) })));

    const out = join(dir, 'x');
    run('mkdir', ['-p', out]);
    run('tar', ['-xzf', path, '-C', out]);
    const files = readdirSync(out).sort();
    for (const a of alerts) expect(sha256(readFileSync(join(out, `${a.candid}.avro`)))).toBe(sha256(a.bytes));
    expect(fastavroCandids(files.map((f) => join(out, f))).sort()).toEqual(alerts.map((a) => a.candid.toString()).sort());
  });

  it('gives the same bytes whatever the number of workers, and Node gunzip reads every level', async () => {
    const one = new DeflatePool({ workers: 1 });
    try {
      for (const level of [0, 1, 6, 9]) {
        const a = await write(join(dir, `l${level}-a.tar.gz`), alerts.slice(0, 40), { level, blockBytes: 48 * 1024 });
        const b = await write(join(dir, `l${level}-b.tar.gz`), alerts.slice(0, 40), { level, blockBytes: 48 * 1024, pool: one });
        expect(b.md5).toBe(a.md5);
        const tar = gunzipSync(readFileSync(join(dir, `l${level}-a.tar.gz`)));
        expect(tar.length).toBe(a.inputBytes);
        // The first member's bytes sit right after its 512-byte header.
        expect(tar.subarray(512, 512 + alerts[0]!.bytes.length).equals(alerts[0]!.bytes)).toBe(true);
      }
    } finally {
      await one.close();
    }
  });

  it('stores the already-compressed runs (the cutouts) and deflates the rest: both ways read back, storing is no larger', async () => {
    const mixed = await write(join(dir, 'mixed.tar.gz'), alerts, { blockBytes: SMALL_BLOCK });
    const plain = await write(join(dir, 'plain.tar.gz'), alerts, { blockBytes: SMALL_BLOCK, storeIncompressible: false });
    expect(mixed.md5).not.toBe(plain.md5);
    expect(mixed.sizeBytes).toBeLessThanOrEqual(plain.sizeBytes);
    for (const name of ['mixed.tar.gz', 'plain.tar.gz']) {
      expect(pythonTarball(join(dir, name)).members.map((m) => m.sha256)).toEqual(alerts.map((a) => sha256(a.bytes)));
    }
  });

  it('ends a stream whose last bytes are random with a final stored block that gzip, Python and Node accept', async () => {
    // 300 KiB of random bytes then 5 KiB of zeros, then random again to the end: stored runs in the
    // middle of blocks, at their edges, and as the very last run of the stream.
    const input = Buffer.concat([randomBytes(300 * 1024), Buffer.alloc(5 * 1024), randomBytes(77 * 1024 + 13)]);
    const path = join(dir, 'random.gz');
    const sink = await FileSink.create(path);
    const gz = new ParallelGzip(sink, { pool, blockBytes: SMALL_BLOCK });
    for (let at = 0; at < input.length; at += 10_000) await gz.write(input.subarray(at, at + 10_000));
    const summary = await gz.end();
    await sink.finish();
    expect(gunzipSync(readFileSync(path)).equals(input)).toBe(true);
    run('gzip', ['-t', path]);
    expect(run(venvPython(), ['-c', 'import gzip,sys,hashlib; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())', path]).trim()).toBe(sha256(input));
    // Stored, random bytes cost 5 bytes per 64 KiB block plus the gzip framing.
    expect(summary.sizeBytes).toBeLessThan(input.length + 200);
  });

  it('compresses the repeated schema text across block edges (the previous 32 KiB primes each block)', async () => {
    // Without the shared window, each 32 KiB block would start cold: measurably larger output.
    const small = await write(join(dir, 'edges-small.tar.gz'), alerts.slice(0, 40), { blockBytes: SMALL_BLOCK });
    const large = await write(join(dir, 'edges-large.tar.gz'), alerts.slice(0, 40), { blockBytes: 8 * 1024 * 1024 });
    expect(small.sizeBytes).toBeLessThan(large.sizeBytes * 1.01);
  });

  it('writes an empty tarball that GNU tar and Python read as empty', async () => {
    const path = join(dir, 'empty.tar.gz');
    const summary = await write(path, [], {});
    expect(summary).toMatchObject({ members: 0, inputBytes: 1024 });
    expect(run('tar', ['-tzf', path])).toBe('');
    expect(pythonTarball(path)).toEqual({ members: [], tarBytes: 1024 });
  });

  it('refuses a bad level and a block smaller than the deflate window, naming the option', () => {
    const sink = { write: async () => undefined };
    expect(() => new TarGzWriter(sink, { level: 10, pool })).toThrow(/gzip level must be a whole number from 0 to 9/);
    expect(() => new TarGzWriter(sink, { blockBytes: 1000, pool })).toThrow(/blockBytes must be a whole number ≥ 32768/);
  });

  it('stops without hanging when the sink fails, and the pool goes on serving other writers', async () => {
    let writes = 0;
    const failing = new TarGzWriter({ write: async () => {
      if (++writes > 3) throw new Error('disk gone');
    } }, { pool, blockBytes: SMALL_BLOCK });
    await expect((async () => {
      for (const a of alerts) await failing.add({ name: `${a.candid}.avro`, bytes: a.bytes, date: DATE });
      await failing.finish();
    })()).rejects.toThrow('disk gone');
    failing.abort();
    const after = await write(join(dir, 'after.tar.gz'), alerts.slice(0, 3), {});
    expect(run('tar', ['-tzf', join(dir, 'after.tar.gz')]).trim().split('\n')).toHaveLength(after.members);
  });
});
