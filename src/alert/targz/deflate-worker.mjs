// A deflate worker of the parallel gzip writer (deflate-pool.ts). Plain JavaScript on purpose: it needs
// nothing of ours, so it starts without the TypeScript loader (which must be registered again in every
// worker, see src/filter/isolated/boot.mjs) — a few milliseconds instead of a few hundred.
//
// Job: { id, input: ArrayBuffer, dictionary?: ArrayBuffer, level, memLevel, last, storeIncompressible }.
// Reply: { id, output: ArrayBuffer } — raw deflate data that continues the stream: byte-aligned and not
// final (it ends with a sync flush or a stored block), or, for the last block, ending with a final block
// — or { id, error }.
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { constants, deflateRawSync } from 'node:zlib';

const WINDOW_BYTES = 32 * 1024;
/** Runs are classified by 4 KiB chunks. */
const CHUNK_BYTES = 4096;
/**
 * Estimated entropy (bits per byte) from which a chunk counts as already compressed. The histogram takes
 * every SAMPLE_STRIDE-th byte (1,024 samples: random bytes then measure ~7.8, Avro records, schema text
 * and tar headers well under 7). Measured on the shared UW tarball's real alerts (30 members, repeated):
 * 54 % of the bytes are stored, level-6 deflate CPU drops 2.5×, and the output is 0.7 % SMALLER than
 * deflating everything (random bytes spoil the dynamic Huffman tables of the blocks they are in); on
 * simulated alerts, 43 % stored, ~25 % less CPU, same size.
 */
const STORED_ENTROPY_BITS = 7.6;
const SAMPLE_STRIDE = 4;
/** A stored deflate block holds at most 65,535 bytes. */
const MAX_STORED_BYTES = 65535;

const counts = new Uint32Array(256);
const SAMPLES = CHUNK_BYTES / SAMPLE_STRIDE;
const C_LOG2_C = new Float64Array(SAMPLES + 1).map((_, c) => (c > 0 ? c * Math.log2(c) : 0));

/** Whether a full chunk's bytes look already compressed (estimated entropy ≥ STORED_ENTROPY_BITS). */
function looksCompressed(bytes, start) {
  const n = SAMPLES;
  counts.fill(0);
  for (let i = start, end = start + CHUNK_BYTES; i < end; i += SAMPLE_STRIDE) counts[bytes[i]]++;
  // H = log2(n) - Σ c·log2(c) / n
  let sum = 0;
  for (let k = 0; k < 256; k++) sum += C_LOG2_C[counts[k]];
  return Math.log2(n) - sum / n >= STORED_ENTROPY_BITS;
}

/** [start, end, stored] runs of the block: full 4 KiB chunks that look compressed are stored, the rest deflated. */
function runs(bytes) {
  const out = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    const end = Math.min(bytes.length, at + CHUNK_BYTES);
    const stored = end - at === CHUNK_BYTES && looksCompressed(bytes, at);
    const prev = out[out.length - 1];
    if (prev && prev[2] === stored) prev[1] = end;
    else out.push([at, end, stored]);
  }
  return out;
}

/** Stored blocks of `bytes`: each a 5-byte header (BFINAL, BTYPE 00, aligned; LEN, NLEN) and the bytes. */
function storedBlocks(bytes, final) {
  const parts = [];
  for (let at = 0; at < bytes.length; at += MAX_STORED_BYTES) {
    const n = Math.min(MAX_STORED_BYTES, bytes.length - at);
    const head = Buffer.alloc(5);
    head[0] = final && at + n === bytes.length ? 1 : 0;
    head.writeUInt16LE(n, 1);
    head.writeUInt16LE(~n & 0xffff, 3);
    parts.push(head, bytes.subarray(at, at + n));
  }
  return parts;
}

/** The 32 KiB of the stream before `start`: the block's own bytes, after the previous block's tail. */
function windowBefore(input, start, dictionary) {
  if (start >= WINDOW_BYTES || !dictionary) return input.subarray(Math.max(0, start - WINDOW_BYTES), start);
  return Buffer.concat([dictionary.subarray(Math.max(0, dictionary.length - (WINDOW_BYTES - start))), input.subarray(0, start)]);
}

function deflate(bytes, dictionary, job, final) {
  return deflateRawSync(bytes, {
    level: job.level,
    memLevel: job.memLevel,
    dictionary,
    finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    // One output chunk big enough for incompressible input: no concatenation of 16 KiB pieces.
    chunkSize: Math.max(64 * 1024, bytes.length + (bytes.length >> 4) + 1024),
  });
}

/**
 * The block as raw deflate. Runs of already-compressed bytes go out as stored blocks (deflate would
 * spend most of its time on them for nothing); the other runs are deflated, each primed with the
 * stream's 32 KiB just before it — unless all of those are a stored run (random bytes: nothing to match,
 * and priming a dictionary costs time). Each deflated run ends with a sync flush, so every part that
 * follows starts byte-aligned, as a stored block must.
 */
function compressBlock(input, dictionary, job) {
  if (!job.storeIncompressible || job.level === 0) return deflate(input, dictionary, job, job.last);
  const parts = [];
  const list = runs(input);
  if (list.length === 0) return deflate(input, dictionary, job, job.last);
  list.forEach(([start, end, stored], i) => {
    const final = job.last && i === list.length - 1;
    const bytes = input.subarray(start, end);
    if (stored) {
      parts.push(...storedBlocks(bytes, final));
      return;
    }
    // Runs alternate: one that does not start the block follows a stored run.
    const storedBefore = start === 0 ? 0 : start - list[i - 1][0];
    const dict = start === 0 ? dictionary : storedBefore < WINDOW_BYTES ? windowBefore(input, start, dictionary) : undefined;
    parts.push(deflate(bytes, dict, job, final));
  });
  return Buffer.concat(parts);
}

parentPort.on('message', (job) => {
  try {
    const input = Buffer.from(job.input);
    const out = compressBlock(input, job.dictionary ? Buffer.from(job.dictionary) : undefined, job);
    // Hand the bytes over without a copy when the Buffer owns its whole ArrayBuffer.
    const own = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength;
    const output = own ? out.buffer : out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
    parentPort.postMessage({ id: job.id, output }, [output]);
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
