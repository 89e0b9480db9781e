import type { Evaluation, Outcome } from '../filter-set.ts';
import type { AlertRef } from '../judge.ts';

/*
 * The framed protocol between PythonJudge and host.py, over the host's stdin and stdout. Every frame is
 * a u32 (little-endian) byte length of what follows, a one-byte type, and a payload:
 *
 * to the host   "J" batch: u32 batchId, u32 count, then per item:
 *                 u32 itemId, u32 skip mask (bit i: do not call filter i), u8 hasCandid, i64 candid,
 *                 u32 length, the message's raw bytes (a whole Avro container file)
 * from the host "R" ready: JSON { filters: [{ name, version }], python, fastavro, pid }
 *               "F" failed to load: JSON { file, line, message }
 *               "V" verdicts: u32 batchId, u32 count, then per item, in the batch's order:
 *                 u32 itemId, u8 status; status 1 (undecodable): u8 code length, code (ASCII),
 *                 u32 message length, message (UTF-8); status 0: u32 alerts, then per alert:
 *                 i64 candid, f64 jd, u16 objectId length, objectId, then per filter: u8 outcome
 *                 (0 passed, 1 rejected, 2 error, 3 timeout, 4 skipped), f32 busy ms, and for an
 *                 error u32 message length + message
 *               "H" hung: u32 itemId, u32 filter index, f64 ms — the host ends itself right after
 *               "B" beat: nothing (the host is alive and judging)
 * Bytes go over as they are: the host decodes them with fastavro and the runner's outputs keep them.
 */

export const OUTCOMES: readonly Outcome[] = ['passed', 'rejected', 'error', 'timeout', 'skipped'];

/** Longest answer to an item the runner accepts, and frame to the host it sends, in bytes. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** An item to send: its id, the filters to skip (bit mask), the one candid to judge, and its bytes. */
export interface WireItem {
  id: number;
  skip: number;
  candid: bigint | undefined;
  bytes: Buffer;
}

/** The host's answer to one item. */
export type ItemAnswer =
  | { id: number; ok: true; alerts: AlertRef[]; evaluations: Evaluation[] }
  | { id: number; ok: false; code: string; message: string };

export type HostFrame =
  | { type: 'ready'; filters: { name: string; version: string }[]; python: string; fastavro: string; pid: number }
  | { type: 'failed'; file: string; line: number; message: string }
  | { type: 'verdicts'; batchId: number; answers: ItemAnswer[] }
  | { type: 'hung'; itemId: number; filter: number; ranMs: number }
  | { type: 'beat' };

const ITEM_HEAD = 21;

/**
 * One "J" frame holding the items, as the pieces to write: small headers around the items' own bytes,
 * which are not copied (a batch is megabytes; the pipe takes the pieces in one writev).
 */
export function encodeBatch(batchId: number, items: readonly WireItem[]): Buffer[] {
  let size = 4 + 1 + 8;
  for (const it of items) size += ITEM_HEAD + it.bytes.length;
  const head = Buffer.allocUnsafe(13 + ITEM_HEAD * items.length);
  head.writeUInt32LE(size - 4, 0);
  head.write('J', 4, 'latin1');
  head.writeUInt32LE(batchId, 5);
  head.writeUInt32LE(items.length, 9);
  const parts: Buffer[] = [];
  let pos = 13;
  let start = 0;
  for (const it of items) {
    head.writeUInt32LE(it.id, pos);
    head.writeUInt32LE(it.skip >>> 0, pos + 4);
    head.writeUInt8(it.candid === undefined ? 0 : 1, pos + 8);
    head.writeBigInt64LE(it.candid ?? 0n, pos + 9);
    head.writeUInt32LE(it.bytes.length, pos + 17);
    pos += ITEM_HEAD;
    parts.push(head.subarray(start, pos), it.bytes);
    start = pos;
  }
  if (items.length === 0) parts.push(head);
  return parts;
}

/** Decodes one frame's type and payload (the length prefix already taken off). */
export function decodeFrame(frame: Buffer, filterCount: number): HostFrame {
  const type = String.fromCharCode(frame[0]!);
  const body = frame.subarray(1);
  switch (type) {
    case 'R':
      return { type: 'ready', ...(JSON.parse(body.toString('utf8')) as Omit<Extract<HostFrame, { type: 'ready' }>, 'type'>) };
    case 'F':
      return { type: 'failed', ...(JSON.parse(body.toString('utf8')) as Omit<Extract<HostFrame, { type: 'failed' }>, 'type'>) };
    case 'H':
      return { type: 'hung', itemId: body.readUInt32LE(0), filter: body.readUInt32LE(4), ranMs: body.readDoubleLE(8) };
    case 'B':
      return { type: 'beat' };
    case 'V':
      return decodeVerdicts(body, filterCount);
    default:
      throw new Error(`unknown frame type ${JSON.stringify(type)}`);
  }
}

function decodeVerdicts(b: Buffer, filterCount: number): HostFrame {
  const batchId = b.readUInt32LE(0);
  const count = b.readUInt32LE(4);
  let pos = 8;
  const answers: ItemAnswer[] = [];
  for (let k = 0; k < count; k++) {
    const id = b.readUInt32LE(pos);
    const status = b[pos + 4];
    pos += 5;
    if (status === 1) {
      const codeLength = b[pos]!;
      const code = b.toString('latin1', pos + 1, pos + 1 + codeLength);
      pos += 1 + codeLength;
      const messageLength = b.readUInt32LE(pos);
      const message = b.toString('utf8', pos + 4, pos + 4 + messageLength);
      pos += 4 + messageLength;
      answers.push({ id, ok: false, code, message });
      continue;
    }
    const alertCount = b.readUInt32LE(pos);
    pos += 4;
    const alerts: AlertRef[] = [];
    const evaluations: Evaluation[] = [];
    for (let a = 0; a < alertCount; a++) {
      const candid = b.readBigInt64LE(pos);
      const jd = b.readDoubleLE(pos + 8);
      const oidLength = b.readUInt16LE(pos + 16);
      const objectId = b.toString('utf8', pos + 18, pos + 18 + oidLength);
      pos += 18 + oidLength;
      alerts.push({ candid, objectId, jd });
      const e: Evaluation = { outcomes: new Array<Outcome>(filterCount), errors: new Array<string | undefined>(filterCount), busyMs: new Array<number>(filterCount) };
      for (let i = 0; i < filterCount; i++) {
        const outcome = OUTCOMES[b[pos]!] ?? 'error';
        e.outcomes[i] = outcome;
        e.busyMs[i] = b.readFloatLE(pos + 1);
        pos += 5;
        if (outcome === 'error') {
          const n = b.readUInt32LE(pos);
          e.errors[i] = b.toString('utf8', pos + 4, pos + 4 + n);
          pos += 4 + n;
        }
      }
      evaluations.push(e);
    }
    answers.push({ id, ok: true, alerts, evaluations });
  }
  return { type: 'verdicts', batchId, answers };
}

/**
 * Cuts a byte stream into frames: push chunks in, take whole frames (without their length prefix) out.
 * Chunks are kept as they came and joined only once a frame is whole, so a large frame is copied once.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#buffered < 4) break;
      const head = this.#chunks[0]!.length >= 4 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      const size = head.readUInt32LE(0);
      if (size > MAX_FRAME_BYTES) throw new Error(`frame of ${size} bytes is larger than ${MAX_FRAME_BYTES}`);
      if (this.#buffered < 4 + size) break;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      frames.push(all.subarray(4, 4 + size));
      const rest = all.subarray(4 + size);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
    }
    return frames;
  }
}
