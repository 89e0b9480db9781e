import type { FuzzRandom } from './random.ts';

/* Avro's zigzag varints (int, long, every length and count), and the edge values they get tampered with. */

/** Zigzag varint of a 64-bit value (wrapped to 64 bits), as Avro writes int and long. */
export function encodeLong(value: bigint): Buffer {
  let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z !== 0n) b |= 0x80;
    out.push(b);
  } while (z !== 0n);
  return Buffer.from(out);
}

/** Reads one zigzag varint; `end` is where it stops. Throws past the end of the bytes. */
export function readLong(bytes: Buffer, pos: number): { value: bigint; end: number } {
  let z = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= bytes.length) throw new RangeError('varint runs past the end');
    const b = bytes[pos++]!;
    z |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) break;
  }
  return { value: (z >> 1n) ^ -(z & 1n), end: pos };
}

/** The values a tampered length, count or union index gets: signs, int/long/double limits, off-by-ones. */
export function edgeLongs(actual: bigint): bigint[] {
  return [
    0n, 1n, -1n, 2n, -2n, 127n, 128n, 255n, 65_535n, 65_536n,
    2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 32n - 1n,
    2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n),
    2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n,
    actual + 1n, actual - 1n, -actual, actual * 2n, actual + 1_000_000n,
  ];
}

/** A varint for `value`, sometimes in a form a strict reader must refuse or read carefully. */
export function tamperedVarint(rnd: FuzzRandom, value: bigint): { bytes: Buffer; form: string } {
  const plain = encodeLong(value);
  switch (rnd.int(6)) {
    case 0: {
      // Over-long: padded with continuation bytes that add nothing (same value, more bytes).
      const pad = rnd.between(1, 6);
      const last = plain[plain.length - 1]!;
      const padded = Buffer.concat([plain.subarray(0, -1), Buffer.from([last | 0x80]), Buffer.alloc(pad - 1, 0x80), Buffer.from([0x00])]);
      return { bytes: padded, form: `overlong+${pad}` };
    }
    case 1:
      // More than 64 bits of payload.
      return { bytes: Buffer.concat([Buffer.alloc(rnd.between(10, 14), 0xff), Buffer.from([0x01])]), form: 'over-64-bit' };
    case 2:
      // Never terminated within the value (the next bytes of the data continue it).
      return { bytes: Buffer.alloc(rnd.between(1, 12), 0x80 | rnd.int(128)), form: 'unterminated' };
    default:
      return { bytes: plain, form: 'plain' };
  }
}
