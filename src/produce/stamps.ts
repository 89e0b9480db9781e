import { crc32 } from 'node:zlib';
import type { ZtfCutout } from '../alert/index.ts';
import type { StampModel } from './detection.ts';
import { HEADER_CRC, ROW_BYTES, STAMP_SIZE, assembleStamp, deflatePiece, storedPiece } from './fits.ts';
import type { RowPiece } from './fits.ts';
import { NOISE_PROFILES } from './plan.ts';
import { Rng, STREAM, hashInts, rngFor } from './rng.ts';

/**
 * The three cutouts of a simulated alert: science (sky + reference source + change), template (sky,
 * low noise, reference source) and difference (zero-mean noise + change), each a Gaussian point source
 * on Gaussian noise. Noise rows away from the source come from a per-seed pool of pre-compressed
 * pieces; only the rows through the source are computed per alert (see fits.ts).
 */

// Local copies: these are read per pixel.
const SIZE = STAMP_SIZE;
const ROW = ROW_BYTES;
const CENTRE = (SIZE - 1) / 2;
/** Heights (rows) of the band around the source that is computed per alert. */
const BAND_HEIGHTS = [7, 9, 11, 13, 17, 21] as const;
/** Pre-compressed noise pieces per (seed, image kind, noise profile, band height), above and below. */
const POOL_SIZE = 8;
const NOISE_TABLE_SIZE = 1 << 16;
/** Bands this tall (bright sources) compress to ~85 % and are deflated; smaller ones are stored (see fits.ts). */
const DEFLATE_FROM_ROWS = 13;
/** The source is drawn out to where it falls below this fraction of the noise. */
const TRUNCATE_AT_NOISE = 0.1;

const BIG_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

type Kind = 0 | 1 | 2;
const SCIENCE: Kind = 0;
const TEMPLATE: Kind = 1;
const DIFFERENCE: Kind = 2;

interface Profile {
  skyDn: number;
  noiseDn: [number, number, number];
}

interface PoolEntry {
  top: RowPiece;
  /** CRC of the header and the top rows. */
  crcAfterTop: number;
  bottom: RowPiece;
}

/** Pools and tables of one seed; built lazily and kept for the life of the generator. */
export class StampFactory {
  readonly #seed: number;
  readonly #noise: Float32Array;
  readonly #profiles: Profile[] = [];
  readonly #pools = new Map<number, PoolEntry[]>();
  readonly #band = Buffer.alloc(BAND_HEIGHTS[BAND_HEIGHTS.length - 1] * ROW);
  readonly #gx = new Float64Array(SIZE);
  readonly #gy = new Float64Array(SIZE);

  constructor(seed: number) {
    this.#seed = seed;
    const rng = rngFor(seed, STREAM.noiseTable);
    this.#noise = new Float32Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) this.#noise[i] = rng.normal();
    for (let p = 0; p < NOISE_PROFILES; p++) {
      const r = rngFor(seed, STREAM.noiseProfile, p);
      const sci = r.range(5, 25);
      const tmpl = r.range(1, 2);
      this.#profiles.push({ skyDn: r.range(150, 400), noiseDn: [sci, tmpl, Math.hypot(sci, tmpl)] });
    }
  }

  /**
   * Fills `rows` rows of `out` with sky + noise, starting at stamp row `row`, plus the source when
   * amplitude ≠ 0; pixels are written as native floats, then swapped to FITS's big-endian order at once.
   */
  #fillRows(out: Buffer, rows: number, row: number, sky: number, sigma: number, rng: Rng, amplitude: number): void {
    const pixels = new Float32Array(out.buffer, out.byteOffset, rows * SIZE);
    const noise = this.#noise;
    const gx = this.#gx;
    const gy = this.#gy;
    // xorshift32 picks table entries: per pixel it is far cheaper than a fresh Gaussian.
    let x = rng.uint32() | 1;
    let p = 0;
    for (let r = 0; r < rows; r++) {
      const ay = amplitude === 0 ? 0 : amplitude * gy[row + r]!;
      for (let c = 0; c < SIZE; c++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        pixels[p++] = sky + sigma * noise[x & (NOISE_TABLE_SIZE - 1)]! + (ay === 0 ? 0 : ay * gx[c]!);
      }
    }
    if (BIG_ENDIAN_HOST) return;
    out.subarray(0, rows * ROW).swap32();
  }

  #pool(kind: Kind, profile: number, heightIndex: number): PoolEntry[] {
    const key = (kind * NOISE_PROFILES + profile) * BAND_HEIGHTS.length + heightIndex;
    const known = this.#pools.get(key);
    if (known) return known;
    const height = BAND_HEIGHTS[heightIndex]!;
    const topRows = CENTRE - (height - 1) / 2;
    const bottomRows = SIZE - topRows - height;
    const { skyDn, noiseDn } = this.#profiles[profile]!;
    const sky = kind === DIFFERENCE ? 0 : skyDn;
    const entries: PoolEntry[] = [];
    for (let k = 0; k < POOL_SIZE; k++) {
      const rng = rngFor(this.#seed, STREAM.noiseBand, key, k);
      const top = Buffer.alloc(topRows * ROW);
      this.#fillRows(top, topRows, 0, sky, noiseDn[kind], rng, 0);
      const bottom = Buffer.alloc(bottomRows * ROW);
      this.#fillRows(bottom, bottomRows, 0, sky, noiseDn[kind], rng, 0);
      entries.push({
        top: { raw: top, deflated: deflatePiece(top) },
        crcAfterTop: crc32(top, HEADER_CRC),
        bottom: { raw: bottom, deflated: deflatePiece(bottom) },
      });
    }
    this.#pools.set(key, entries);
    return entries;
  }

  /** One stamp: the pooled rows around a freshly drawn band through a source of `fluxDn` (DN). */
  #stamp(kind: Kind, model: StampModel, fluxDn: number, fwhmPx: number, rng: Rng): Buffer {
    const { skyDn, noiseDn } = this.#profiles[model.noiseProfile]!;
    const sigma = noiseDn[kind];
    const psfSigma = fwhmPx / 2.3548;
    const amplitude = fluxDn / (2 * Math.PI * psfSigma * psfSigma);
    const reach = Math.abs(amplitude) > TRUNCATE_AT_NOISE * sigma
      ? psfSigma * Math.sqrt(2 * Math.log(Math.abs(amplitude) / (TRUNCATE_AT_NOISE * sigma))) + 0.5
      : 0;
    let heightIndex = BAND_HEIGHTS.findIndex((h) => (h - 1) / 2 >= reach);
    if (heightIndex < 0) heightIndex = BAND_HEIGHTS.length - 1;
    const height = BAND_HEIGHTS[heightIndex]!;
    const firstRow = CENTRE - (height - 1) / 2;
    const cx = CENTRE + model.dxPx;
    const cy = CENTRE + model.dyPx;
    const k = -1 / (2 * psfSigma * psfSigma);
    for (let i = 0; i < SIZE; i++) {
      this.#gx[i] = Math.exp(k * (i - cx) * (i - cx));
      this.#gy[i] = Math.exp(k * (i - cy) * (i - cy));
    }
    const pool = this.#pool(kind, model.noiseProfile, heightIndex);
    const above = pool[rng.int(POOL_SIZE)]!;
    const below = pool[rng.int(POOL_SIZE)]!;
    const band = this.#band.subarray(0, height * ROW);
    this.#fillRows(band, height, firstRow, kind === DIFFERENCE ? 0 : skyDn, sigma, rng, amplitude);
    const piece = height >= DEFLATE_FROM_ROWS ? deflatePiece(band) : storedPiece(band);
    return assembleStamp([above.top, { raw: band, deflated: piece }, below.bottom], above.crcAfterTop);
  }

  /** The science, template and difference cutouts of a detection. */
  cutouts(model: StampModel, candid: bigint, pid: bigint): { science: ZtfCutout; template: ZtfCutout; difference: ZtfCutout } {
    const rng = new Rng(hashInts(this.#seed, STREAM.cutout, Number(candid % 4294967296n), Number(candid / 4294967296n)));
    const scienceFlux = Math.max(0, model.refFluxDn + model.diffFluxDn);
    return {
      science: { fileName: `candid${candid}_pid${pid}_targ_sci.fits.gz`, stampData: this.#stamp(SCIENCE, model, scienceFlux, model.fwhmPx, rng) },
      template: { fileName: `candid${candid}_ref.fits.gz`, stampData: this.#stamp(TEMPLATE, model, model.refFluxDn, model.refFwhmPx, rng) },
      difference: {
        fileName: `candid${candid}_pid${pid}_targ_scimref.fits.gz`,
        stampData: this.#stamp(DIFFERENCE, model, model.diffFluxDn, model.fwhmPx, rng),
      },
    };
  }
}
