// A deflate worker of the parallel gzip writer (deflate-pool.ts). Plain JavaScript on purpose: it needs
// nothing of ours, so it starts without the TypeScript loader (which must be registered again in every
// worker, see src/filter/isolated/boot.mjs) — a few milliseconds instead of a few hundred.
//
// Job: { id, input: ArrayBuffer, dictionary?: ArrayBuffer, level, memLevel, last }. The block is deflated
// as raw deflate primed with `dictionary` (the 32 KiB of the stream just before it), ending with a sync
// flush (byte-aligned, not final) or, for the last block, a final block. Reply: { id, output: ArrayBuffer }
// or { id, error }.
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { constants, deflateRawSync } from 'node:zlib';

parentPort.on('message', (job) => {
  try {
    const input = Buffer.from(job.input);
    const out = deflateRawSync(input, {
      level: job.level,
      memLevel: job.memLevel,
      dictionary: job.dictionary ? Buffer.from(job.dictionary) : undefined,
      finishFlush: job.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      // One output chunk big enough for an incompressible block: no concatenation of 16 KiB pieces.
      chunkSize: Math.max(64 * 1024, input.length + (input.length >> 4) + 1024),
    });
    // Hand the bytes over without a copy when the Buffer owns its whole ArrayBuffer.
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength;
    const output = own ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
    parentPort.postMessage({ id: job.id, output }, [output]);
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
