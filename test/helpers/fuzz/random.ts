import { Rng, hashInts } from '../../../src/produce/rng.ts';

/*
 * Seeded fuzzing: a PRNG per case (seed, case index), so one failing case is repeated on its own from
 * the two numbers the test prints; and the draws a fuzzer needs, random text among them.
 */

/** The seed of a fuzz run: ZADS_FUZZ_SEED when set (to repeat or explore), else the test's fixed seed. Printed. */
export function fuzzSeed(label: string, fixed: number): number {
  const env = process.env.ZADS_FUZZ_SEED;
  const seed = env !== undefined && env !== '' ? Number.parseInt(env, 10) >>> 0 : fixed >>> 0;
  process.stdout.write(`[fuzz] ${label}: seed ${seed} (repeat with ZADS_FUZZ_SEED=${seed})\n`);
  return seed;
}

/** mulberry32 (the simulator's PRNG) with the draws a fuzzer needs. */
export class FuzzRandom extends Rng {
  /** Integer in [lo, hi] (inclusive). */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }

  /** A length skewed towards small values (most bugs live at the edges), up to `max`. */
  length(max: number): number {
    const r = this.float();
    if (r < 0.3) return this.between(0, Math.min(max, 8));
    if (r < 0.7) return this.between(0, Math.min(max, 256));
    return this.between(0, max);
  }
}

/** The random stream of one case. */
export function caseRandom(seed: number, index: number): FuzzRandom {
  return new FuzzRandom(hashInts(seed, index));
}

/** Random text of a given flavour: unicode, control characters, SQL/HTML/path noise, very long. */
export function randomText(rnd: FuzzRandom, maxLength = 64): string {
  const pools = [
    () => String.fromCharCode(rnd.between(0x20, 0x7e)),
    () => String.fromCodePoint(rnd.pick([0x00, 0x0a, 0x0d, 0x09, 0x7f, 0x85, 0xa0, 0x2028, 0xfeff, 0xfffd, 0x1f600, 0x10ffff, 0x0301])),
    () => String.fromCodePoint(rnd.between(0xa0, 0xd7ff)),
    () => rnd.pick(["'", '"', '\\', '/', '..', '%', '%00', '%ff', '<', '>', '&', ';', '--', '*', '?', '#', '{', '}', '[', ']', '$', '\u0000']),
    () => rnd.pick(['0', '-1', '-0', '0.5', '1e309', '1e-320', 'NaN', 'Infinity', '9007199254740993', '9223372036854775808', '-9223372036854775809', '0x10', '1_000']),
  ];
  const len = rnd.length(maxLength);
  let s = '';
  for (let i = 0; i < len; i++) s += rnd.pick(pools)();
  return s;
}
