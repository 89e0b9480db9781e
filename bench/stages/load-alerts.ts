/**
 * The alerts of the load stage. The simulator builds ~260 alerts/s here, far below the 1,333/s to
 * offer, so a pool of simulated alerts (`zads produce --simulate`'s source, schema 4.02, ~74 KB each) is
 * built once, untimed, and every message sent is a copy of a pool alert with a new candid and objectId
 * written over the old ones in place (same byte lengths, so the container stays valid). Message `i`
 * (numbered across all producer processes) is the copy of template `i mod poolSize`; the API client
 * computes the same candids and objectIds to query.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readContainer } from '../../src/alert/index.ts';
import { fromSimulation, isSkipped } from '../../src/produce/index.ts';

/**
 * Candids of the copies: BASE + i. At or above 2^62, so their zigzag varint is 10 bytes long like the
 * simulator's (~5.2e18), and below the simulator's, so a copy never takes a simulated candid.
 */
export const LOAD_CANDID_BASE = 4_700_000_000_000_000_000n;
/** Each object of the pool is renamed every this many passes over the pool: light curves of a few alerts per night. */
export const PASSES_PER_OBJECT = 2;
const OBJECT_ID_LETTERS = 7;

/** What the API client needs to name the alerts sent: no bytes. */
export interface PoolIndex {
  size: number;
  /** Distinct objects among the templates. */
  objects: number;
  templates: { prefix: string; object: number; ra: number; dec: number }[];
}

/** Where in a template the candid and objectId bytes are, for the producers. */
export interface PoolLayout extends PoolIndex {
  entries: { offset: number; length: number; candidAt: number[]; objectIdAt: number[] }[];
  bytes: number;
}

/** Avro's long encoding: zigzag, then 7 bits a byte, low bits first. */
export function zigzagVarint(value: bigint): Buffer {
  let z = value >= 0n ? value << 1n : ((-value) << 1n) - 1n;
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number((z & 0x7fn) | 0x80n));
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

function occurrences(haystack: Buffer, needle: Buffer): number[] {
  const at: number[] = [];
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) at.push(i);
  return at;
}

export function candidOf(i: number): bigint {
  return LOAD_CANDID_BASE + BigInt(i);
}

function letters(n: number): string {
  let s = '';
  for (let k = 0; k < OBJECT_ID_LETTERS; k++) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

/** The objectId of message `i`: the template's "ZTFyy" and seven letters unique to (object, renaming). */
export function objectIdOf(pool: PoolIndex, i: number): string {
  const t = pool.templates[i % pool.size]!;
  const renaming = Math.floor(Math.floor(i / pool.size) / PASSES_PER_OBJECT);
  return t.prefix + letters(renaming * pool.objects + t.object);
}

/**
 * Simulates `size` alerts of a night and writes them to `<path>.bin` with their layout in
 * `<path>.json`. Throws if an alert's candid or objectId cannot be found where expected.
 */
export function buildPool(path: string, night: string, size: number, seed: number): PoolLayout {
  const chunks: Buffer[] = [];
  const entries: PoolLayout['entries'] = [];
  const templates: PoolLayout['templates'] = [];
  const objectNumbers = new Map<string, number>();
  let offset = 0;
  for (const item of fromSimulation({ night, programid: 1, count: size, seed, schemaVersion: '4.02' })) {
    if (isSkipped(item)) throw new Error(`the simulator skipped an alert: ${item.skipped.message}`);
    const { alert } = readContainer(item.value)[0]!;
    const candid = zigzagVarint(alert.candid);
    if (candid.length !== zigzagVarint(candidOf(0)).length || candid.length !== zigzagVarint(candidOf(10_000_000)).length) {
      throw new Error(`simulated candid ${alert.candid} does not encode to as many bytes as the load stage's candids`);
    }
    const candidAt = occurrences(item.value, candid);
    // Top-level candid and candidate.candid; a third would be a chance match in a cutout.
    if (candidAt.length !== 2) throw new Error(`candid ${alert.candid} occurs ${candidAt.length} times in its message, not 2`);
    const objectId = Buffer.concat([zigzagVarint(BigInt(alert.objectId.length)), Buffer.from(alert.objectId)]);
    const objectIdAt = occurrences(item.value, objectId).map((at) => at + objectId.length - alert.objectId.length);
    if (!/^ZTF\d\d[a-z]{7}$/.test(alert.objectId) || objectIdAt.length !== 1) {
      throw new Error(`objectId ${alert.objectId} is not ZTFyy + 7 letters found once in its message`);
    }
    if (!objectNumbers.has(alert.objectId)) objectNumbers.set(alert.objectId, objectNumbers.size);
    templates.push({ prefix: alert.objectId.slice(0, 5), object: objectNumbers.get(alert.objectId)!, ra: alert.candidate.ra, dec: alert.candidate.dec });
    entries.push({ offset, length: item.value.length, candidAt, objectIdAt });
    chunks.push(item.value);
    offset += item.value.length;
  }
  const layout: PoolLayout = { size: entries.length, objects: objectNumbers.size, templates, entries, bytes: offset };
  writeFileSync(`${path}.bin`, Buffer.concat(chunks));
  writeFileSync(`${path}.json`, JSON.stringify(layout));
  return layout;
}

/** The copies one producer process sends: messages i ≡ `producer` (mod `producers`), as Kafka messages. */
export class PoolSlice {
  readonly #layout: PoolLayout;
  readonly #templates = new Map<number, Buffer>();
  readonly #producer: number;
  readonly #producers: number;

  constructor(path: string, producer: number, producers: number) {
    this.#layout = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as PoolLayout;
    if (this.#layout.size % producers !== 0) throw new Error(`a pool of ${this.#layout.size} does not split across ${producers} producers`);
    const all = readFileSync(`${path}.bin`);
    // Message i uses template i mod size; with size a multiple of producers, this producer's are t ≡ producer.
    for (let t = producer; t < this.#layout.size; t += producers) {
      const e = this.#layout.entries[t]!;
      this.#templates.set(t, Buffer.from(all.subarray(e.offset, e.offset + e.length)));
    }
    this.#producer = producer;
    this.#producers = producers;
  }

  /** The j-th message of this producer: a fresh buffer (the one in flight is never written over). */
  message(j: number): { key: string; value: Buffer } {
    const i = j * this.#producers + this.#producer;
    const t = i % this.#layout.size;
    const e = this.#layout.entries[t]!;
    const value = Buffer.from(this.#templates.get(t)!);
    const candid = zigzagVarint(candidOf(i));
    for (const at of e.candidAt) candid.copy(value, at);
    const key = objectIdOf(this.#layout, i);
    for (const at of e.objectIdAt) value.write(key, at, 'latin1');
    return { key, value };
  }
}
