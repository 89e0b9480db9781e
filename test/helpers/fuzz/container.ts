import { deflateRawSync } from 'node:zlib';
import type { VarintAt, VarintKind } from './record.ts';
import { encodeLong, readLong } from './varint.ts';

/*
 * Avro container files taken apart and put back together, and where their framing varints are (header
 * map counts and key/value lengths, block counts and sizes).
 */

export interface ContainerParts {
  /** Header metadata entries, in file order (duplicates allowed when tampered). */
  meta: [string, Buffer][];
  sync: Buffer;
  blocks: { count: bigint; data: Buffer; sync: Buffer }[];
  /** Bytes after the last whole block. */
  trailing: Buffer;
}

/** Takes a well-formed container apart (the file's bytes after its last readable block go to `trailing`). */
export function parseContainer(bytes: Buffer): ContainerParts {
  if (!bytes.subarray(0, 4).equals(Buffer.from('Obj\x01', 'latin1'))) throw new Error('not a container');
  let pos = 4;
  const meta: [string, Buffer][] = [];
  for (;;) {
    const n = readLong(bytes, pos);
    pos = n.end;
    if (n.value === 0n) break;
    let count = n.value;
    if (count < 0n) {
      count = -count;
      pos = readLong(bytes, pos).end;
    }
    for (let i = 0n; i < count; i++) {
      const k = readLong(bytes, pos);
      const key = bytes.subarray(k.end, k.end + Number(k.value)).toString('utf8');
      pos = k.end + Number(k.value);
      const v = readLong(bytes, pos);
      meta.push([key, Buffer.from(bytes.subarray(v.end, v.end + Number(v.value)))]);
      pos = v.end + Number(v.value);
    }
  }
  const sync = Buffer.from(bytes.subarray(pos, pos + 16));
  pos += 16;
  const blocks: ContainerParts['blocks'] = [];
  while (pos < bytes.length) {
    try {
      const c = readLong(bytes, pos);
      const s = readLong(bytes, c.end);
      const end = s.end + Number(s.value);
      const blockSync = bytes.subarray(end, end + 16);
      if (s.value < 0n || end + 16 > bytes.length || !blockSync.equals(sync)) break;
      blocks.push({ count: c.value, data: Buffer.from(bytes.subarray(s.end, end)), sync: Buffer.from(blockSync) });
      pos = end + 16;
    } catch {
      break;
    }
  }
  return { meta, sync, blocks, trailing: Buffer.from(bytes.subarray(pos)) };
}

/** Writes parts back as bytes; `sizeOf` may announce another size than a block's data has. */
export function buildContainer(parts: ContainerParts, sizeOf: (i: number, actual: number) => Buffer = (_i, n) => encodeLong(BigInt(n))): Buffer {
  const out: Buffer[] = [Buffer.from('Obj\x01', 'latin1')];
  if (parts.meta.length > 0) {
    out.push(encodeLong(BigInt(parts.meta.length)));
    for (const [k, v] of parts.meta) {
      const key = Buffer.from(k, 'utf8');
      out.push(encodeLong(BigInt(key.length)), key, encodeLong(BigInt(v.length)), v);
    }
  }
  out.push(encodeLong(0n), parts.sync);
  parts.blocks.forEach((b, i) => out.push(encodeLong(b.count), sizeOf(i, b.data.length), b.data, b.sync));
  out.push(parts.trailing);
  return Buffer.concat(out);
}

export function cloneParts(p: ContainerParts): ContainerParts {
  return {
    meta: p.meta.map(([k, v]) => [k, Buffer.from(v)]),
    sync: Buffer.from(p.sync),
    blocks: p.blocks.map((b) => ({ count: b.count, data: Buffer.from(b.data), sync: Buffer.from(b.sync) })),
    trailing: Buffer.from(p.trailing),
  };
}

/** The same container with its blocks deflated (codec "deflate"). */
export function deflated(p: ContainerParts): ContainerParts {
  const q = cloneParts(p);
  q.meta = q.meta.filter(([k]) => k !== 'avro.codec');
  q.meta.push(['avro.codec', Buffer.from('deflate')]);
  for (const b of q.blocks) b.data = deflateRawSync(b.data);
  return q;
}

/** The framing varints of a container: header map counts and key/value lengths, block counts and sizes. */
export function containerVarints(bytes: Buffer): VarintAt[] {
  const out: VarintAt[] = [];
  let pos = 4;
  const long = (kind: VarintKind, path: string): bigint => {
    const r = readLong(bytes, pos);
    out.push({ pos, end: r.end, value: r.value, kind, path });
    pos = r.end;
    return r.value;
  };
  const skip = (n: bigint): void => {
    pos += Number(n);
  };
  try {
    for (;;) {
      let n = long('count', 'meta');
      if (n === 0n) break;
      if (n < 0n) {
        n = -n;
        long('length', 'meta block size');
      }
      for (let i = 0n; i < n && pos < bytes.length; i++) {
        skip(long('length', 'meta key'));
        skip(long('length', 'meta value'));
      }
    }
    pos += 16;
    while (pos < bytes.length) {
      long('count', 'block count');
      const size = long('length', 'block size');
      if (size < 0n) break;
      skip(size + 16n);
    }
  } catch {
    // The last framing varint read is where the data ran out: enough to tamper with.
  }
  return out;
}
