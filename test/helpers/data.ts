import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The real ZTF files of ../shared/data/ztf (beside the clone, in CI too). Read in place, never written. */
export const ZTF_DATA = fileURLToPath(new URL('../../../shared/data/ztf/', import.meta.url));
export const ALERTS_DIR = `${ZTF_DATA}alerts/`;
export const SAMPLE_TARBALL = `${ZTF_DATA}archive/ztf_public_20180819_mod1000.tar.gz`;
export const PUBLISHED_SCHEMAS = `${ZTF_DATA}schemas/`;
export const BROKEN_FILE = `${ALERTS_DIR}broken_ztf_public_20180601_516442333915010047.avro`;
export const TRAILING_GARBAGE_FILE = `${ALERTS_DIR}v4.02_2480088313915010007_trailing-garbage.avro`;
export const V33_FILE = `${ALERTS_DIR}v3.3_472263571115115000.avro`;

/** The well-formed single-alert files, with the version and candid their names state. */
export function goodAlertFiles(): { path: string; version: string; candid: string }[] {
  return readdirSync(ALERTS_DIR)
    .filter((n) => n.startsWith('v') && n.endsWith('.avro'))
    .sort()
    .map((n) => {
      const m = /^v([\d.]+)_(\d+)/.exec(n)!;
      return { path: `${ALERTS_DIR}${n}`, version: m[1]!, candid: m[2]! };
    });
}

/** A small deterministic PRNG (mulberry32) so damage tests are reproducible from their seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
