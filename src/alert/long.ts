import avro from 'avsc';

/**
 * Avro `long` decoded as BigInt. ZTF candids (e.g. 2480088313915010007) are above 2^53, where a
 * JavaScript number silently rounds; avsc's default long type refuses them, and a lossy read would
 * corrupt the primary key of the whole archive.
 */
export const BigIntLongType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (json: unknown): bigint => BigInt(json as string | number),
  toJSON: (n: bigint): string => n.toString(),
  isValid: (n: unknown): boolean => typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n,
  compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
});
