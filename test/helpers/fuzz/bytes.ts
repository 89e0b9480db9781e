import type { FuzzRandom } from './random.ts';
import { edgeLongs, tamperedVarint } from './varint.ts';

/* Blind, byte-level mutations. */

/** Replaces bytes [from, to) of `bytes` with `replacement`. */
export function splice(bytes: Buffer, from: number, to: number, replacement: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, from), replacement, bytes.subarray(to)]);
}

/** One blind mutation of the bytes, named for the report. */
export function mutateBytes(rnd: FuzzRandom, input: Buffer): { bytes: Buffer; label: string } {
  const n = input.length;
  const at = () => rnd.int(Math.max(1, n));
  switch (rnd.int(9)) {
    case 0: {
      const copy = Buffer.from(input);
      const flips = rnd.between(1, 8);
      for (let i = 0; i < flips && n > 0; i++) copy[at()]! ^= 1 << rnd.int(8);
      return { bytes: copy, label: `${flips} bit flip(s)` };
    }
    case 1: {
      const copy = Buffer.from(input);
      const k = rnd.between(1, 16);
      for (let i = 0; i < k && n > 0; i++) copy[at()] = rnd.int(256);
      return { bytes: copy, label: `${k} random byte(s)` };
    }
    case 2: {
      const copy = Buffer.from(input);
      const from = at();
      const len = rnd.length(4096);
      const fill = rnd.pick([0x00, 0xff, 0x80, 0x7f, -1]);
      const run = fill < 0 ? rnd.bytes(len) : Buffer.alloc(len, fill);
      run.copy(copy, from, 0, Math.min(len, n - from));
      return { bytes: copy, label: `byte run of ${len} x ${fill < 0 ? 'random' : fill} at ${from}` };
    }
    case 3: {
      const cut = rnd.chance(0.2) ? n - rnd.between(1, 32) : at();
      return { bytes: input.subarray(0, Math.max(0, cut)), label: `truncated at ${cut}` };
    }
    case 4: {
      const from = at();
      const len = rnd.length(8192);
      const to = at();
      return { bytes: splice(input, to, to, input.subarray(from, from + len)), label: `range ${from}+${len} duplicated at ${to}` };
    }
    case 5: {
      const from = at();
      const len = rnd.length(8192);
      return { bytes: splice(input, from, from + len, Buffer.alloc(0)), label: `range ${from}+${len} removed` };
    }
    case 6: {
      const to = at();
      const len = rnd.length(512);
      return { bytes: splice(input, to, to, rnd.bytes(len)), label: `${len} random bytes inserted at ${to}` };
    }
    case 7: {
      const len = rnd.length(4096);
      return { bytes: Buffer.concat([input, rnd.chance(0.5) ? rnd.bytes(len) : input.subarray(0, len)]), label: `${len} bytes appended` };
    }
    default: {
      // Varint-shaped noise: an edge value written over (or into) a random position.
      const to = at();
      const v = tamperedVarint(rnd, rnd.pick(edgeLongs(BigInt(rnd.int(100_000)))));
      const overwrite = rnd.chance(0.5);
      return { bytes: splice(input, to, overwrite ? to + v.bytes.length : to, v.bytes), label: `${v.form} edge varint ${overwrite ? 'over' : 'into'} byte ${to}` };
    }
  }
}
