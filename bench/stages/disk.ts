import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchContext, Stage, StageResult } from '../harness.ts';

const MB = 2 ** 20;
const CHUNK_BYTES = MB;
/** The archive makes each batch durable before the catalogue records it: an fsync per batch. */
const FSYNC_EVERY_BYTES = 16 * MB;
/** Timed runs of each variant (1 with --quick); the best is reported, the others are in the notes. */
const ROUNDS = 2;

/**
 * Durable sequential write speed of the data folder: 1 MB writes, timed until fsync returns — once at
 * the end, and once every 16 MB as the archive does per batch. The files are deleted afterwards.
 */
export const disk: Stage = {
  name: 'disk',
  group: 'baseline',
  description: 'durable sequential write MB/s to the data folder (1 MB writes, fsync at end / every 16 MB)',
  async run(ctx) {
    const totalBytes = (ctx.quick ? 64 : 512) * MB;
    await mkdir(ctx.dataDir, { recursive: true });
    const fsStats = await statfs(ctx.dataDir);
    const freeBytes = fsStats.bavail * fsStats.bsize;
    if (freeBytes < totalBytes + 256 * MB) {
      throw new Error(`${ctx.dataDir} has ${Math.floor(freeBytes / MB)} MB free; the disk stage writes ${totalBytes / MB} MB`);
    }
    // Random bytes, so that a compressing or deduplicating file system cannot shortcut the writes.
    const chunk = randomBytes(CHUNK_BYTES);
    // An untimed write first: the first file written after a quiet spell is often much slower here.
    await timeWrite(ctx, chunk, Math.min(totalBytes, 64 * MB), 64 * MB);
    const variants = [
      { metric: 'write, fsync at end', fsyncEvery: totalBytes, runs: [] as number[] },
      { metric: `write, fsync every ${FSYNC_EVERY_BYTES / MB} MB`, fsyncEvery: FSYNC_EVERY_BYTES, runs: [] as number[] },
    ];
    // Alternated, so that a slow spell of the shared disk does not fall on one variant only.
    for (let round = 0; round < (ctx.quick ? 1 : ROUNDS); round++) {
      for (const v of variants) v.runs.push(await timeWrite(ctx, chunk, totalBytes, v.fsyncEvery));
    }
    const results: StageResult[] = variants.map((v) => ({
      metric: v.metric,
      value: Math.max(...v.runs),
      unit: 'MB/s',
      notes: `runs ${v.runs.map((r) => r.toFixed(0)).join(', ')} MB/s (best reported); ${totalBytes / MB} MB in ${CHUNK_BYTES / MB} MB writes to ${ctx.dataDir}`,
    }));
    return results;
  },
};

async function timeWrite(ctx: BenchContext, chunk: Buffer, totalBytes: number, fsyncEveryBytes: number): Promise<number> {
  const path = join(ctx.dataDir, `disk-${process.pid}-${Date.now()}.tmp`);
  ctx.defer(`delete ${path}`, () => rm(path, { force: true }));
  const file = await open(path, 'w');
  try {
    const t0 = performance.now();
    let written = 0;
    let sinceSync = 0;
    while (written < totalBytes) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      await file.write(chunk, 0, chunk.length);
      written += chunk.length;
      sinceSync += chunk.length;
      if (sinceSync >= fsyncEveryBytes || written >= totalBytes) {
        await file.sync();
        sinceSync = 0;
      }
      ctx.progress(`${written / MB} / ${totalBytes / MB} MB (fsync every ${fsyncEveryBytes / MB} MB)`);
    }
    const seconds = (performance.now() - t0) / 1000;
    return totalBytes / MB / seconds;
  } finally {
    await file.close();
    await rm(path, { force: true });
  }
}
