import { gunzipSync } from 'node:zlib';
import { ApiError } from './errors.ts';

/** The primary image of a FITS file: width × height values, row 0 the bottom row (FITS order). */
export interface FitsImage {
  width: number;
  height: number;
  /** Pixel values after BSCALE/BZERO; NaN for blank pixels. */
  data: Float64Array;
}

const BLOCK = 2880;
const CARD = 80;

/** A cutout's FITS bytes: ZTF gzips them; a plain FITS file is taken as it is. */
export function fitsBytes(stamp: Buffer): Buffer {
  if (stamp.length >= 2 && stamp[0] === 0x1f && stamp[1] === 0x8b) {
    try {
      return gunzipSync(stamp, { maxOutputLength: 64 * 1024 * 1024 });
    } catch (cause) {
      throw new ApiError('INTERNAL', 'the cutout is not valid gzip', { cause });
    }
  }
  return stamp;
}

function headerValue(card: string): string {
  const raw = card.slice(10);
  const quoted = /^\s*'((?:[^']|'')*)'/.exec(raw);
  if (quoted) return quoted[1]!.replace(/''/g, "'").trimEnd();
  return raw.split('/')[0]!.trim();
}

/**
 * Reads the primary HDU of a FITS file (2880-byte blocks of 80-character header cards, then big-endian
 * data): a 2-D image of BITPIX 8, 16, 32, -32 or -64, as ZTF cutouts are (63×63, BITPIX -32).
 */
export function readFits(bytes: Buffer): FitsImage {
  const bad = (why: string): never => {
    throw new ApiError('INTERNAL', `the cutout is not a FITS image: ${why}`);
  };
  if (bytes.length < BLOCK || bytes.toString('latin1', 0, 9) !== 'SIMPLE  =') bad('no SIMPLE card');
  const header = new Map<string, string>();
  let pos = 0;
  let ended = false;
  while (!ended && pos + CARD <= bytes.length) {
    const card = bytes.toString('latin1', pos, pos + CARD);
    pos += CARD;
    const key = card.slice(0, 8).trim();
    if (key === 'END') ended = true;
    else if (card[8] === '=' && !header.has(key)) header.set(key, headerValue(card));
  }
  if (!ended) bad('no END card');
  const dataStart = Math.ceil(pos / BLOCK) * BLOCK;
  const bitpix = Number(header.get('BITPIX'));
  const naxis = Number(header.get('NAXIS'));
  const width = Number(header.get('NAXIS1'));
  const height = Number(header.get('NAXIS2'));
  if (naxis !== 2 || !(width > 0) || !(height > 0) || width * height > 16_000_000) bad(`NAXIS ${naxis}, ${width}×${height}`);
  const bscale = header.has('BSCALE') ? Number(header.get('BSCALE')) : 1;
  const bzero = header.has('BZERO') ? Number(header.get('BZERO')) : 0;
  const size = Math.abs(bitpix) / 8;
  if (![8, 16, 32, -32, -64].includes(bitpix)) bad(`BITPIX ${bitpix}`);
  if (dataStart + width * height * size > bytes.length) bad('the data is shorter than NAXIS1 × NAXIS2');
  const blank = header.has('BLANK') ? Number(header.get('BLANK')) : undefined;
  const data = new Float64Array(width * height);
  for (let i = 0, at = dataStart; i < data.length; i++, at += size) {
    let v: number;
    if (bitpix === -32) v = bytes.readFloatBE(at);
    else if (bitpix === -64) v = bytes.readDoubleBE(at);
    else if (bitpix === 8) v = bytes[at]!;
    else if (bitpix === 16) v = bytes.readInt16BE(at);
    else v = bytes.readInt32BE(at);
    data[i] = bitpix > 0 && v === blank ? NaN : v * bscale + bzero;
  }
  return { width, height, data };
}
