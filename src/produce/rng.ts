/**
 * Deterministic randomness for simulated nights. Every random quantity is drawn from a stream named by
 * integers (seed, purpose, field, object, exposure…), so any alert can be recomputed on its own — an
 * earlier detection quoted in prv_candidates comes out exactly as it was sent — and nothing depends on
 * the order things are generated in.
 */

/** A 32-bit avalanche mix (the "lowbias32" finaliser): every input bit flips about half the output bits. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hashes a sequence of integers (each taken modulo 2^32) into one 32-bit value. */
export function hashInts(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32((h + Math.imul(mix32(p >>> 0), 0x85ebca6b)) >>> 0);
  return h;
}

/** A seed given as a number or text, reduced to 32 bits (FNV-1a over its decimal or text form). */
export function seedFrom(seed: number | string): number {
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return mix32(h);
}

/** mulberry32: tiny, fast, and good enough for simulated photometry (not for anything secret). */
export class Rng {
  #state: number;
  #spare: number | undefined;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  uint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    const spare = this.#spare;
    if (spare !== undefined) {
      this.#spare = undefined;
      return spare;
    }
    const u = 1 - this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.float();
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** The random stream named by these integers. */
export function rngFor(...parts: readonly number[]): Rng {
  return new Rng(hashInts(...parts));
}

/** Names of the independent random streams, so two purposes never share one by accident. */
export const STREAM = {
  population: 1,
  objectIdScramble: 2,
  fieldPriority: 3,
  night: 4,
  exposure: 5,
  alert: 6,
  history: 7,
  noiseTable: 8,
  noiseBand: 9,
  noiseProfile: 10,
  cutout: 11,
  sync: 12,
} as const;
