import { constants, crc32, deflateRawSync } from 'node:zlib';

/**
 * Gzipped FITS stamps as ZTF ships them: a 63×63 BITPIX -32 image (one 2880-byte header block, the
 * big-endian float32 pixels, zero padding to a whole block) gzipped to ~13 KB.
 *
 * Compressing 20 KB of noise three times per alert is the cost of simulating a night, so a stamp is
 * assembled from independent deflate pieces (the fixed header, pre-compressed noise rows above and
 * below the source, the rows through the source, the fixed padding): each piece ends byte-aligned on
 * a full flush, which makes their concatenation one valid deflate stream, and the gzip CRC is chained
 * across the pieces. Any gunzip reads the result.
 *
 * The few rows through the source are new for every alert. They go in a stored (uncompressed) block:
 * float noise with random low mantissa bits barely compresses in so small a piece (a 9-row band
 * deflates to ~98 % of its size, for ~85 µs per image), so storing it costs tens of bytes per stamp and
 * saves most of the time of simulating an alert.
 */

export const STAMP_SIZE = 63;
export const FITS_BLOCK_BYTES = 2880;
export const ROW_BYTES = STAMP_SIZE * 4;
export const DATA_BYTES = STAMP_SIZE * ROW_BYTES;
export const FITS_BYTES = Math.ceil((FITS_BLOCK_BYTES + DATA_BYTES) / FITS_BLOCK_BYTES) * FITS_BLOCK_BYTES;
const PAD_BYTES = FITS_BYTES - FITS_BLOCK_BYTES - DATA_BYTES;
/** gzip level of every piece (zlib's default, as ZTF's stamps were made). */
export const STAMP_GZIP_LEVEL = 6;

/** One 80-character header card: keyword, then the value right-aligned to column 30 (FITS fixed format). */
function card(keyword: string, value: string | number | boolean, comment?: string): string {
  let text: string;
  if (typeof value === 'boolean') text = (value ? 'T' : 'F').padStart(20);
  else if (typeof value === 'number') text = String(value).padStart(20);
  else text = `'${value.padEnd(8)}'`.padEnd(20);
  const line = `${keyword.padEnd(8)}= ${text}${comment ? ` / ${comment}` : ''}`;
  return line.slice(0, 80).padEnd(80);
}

/** The header block of a 63×63 float32 image. */
export function fitsHeader(): Buffer {
  const cards = [
    card('SIMPLE', true, 'conforms to FITS standard'),
    card('BITPIX', -32, 'array data type'),
    card('NAXIS', 2, 'number of array dimensions'),
    card('NAXIS1', STAMP_SIZE),
    card('NAXIS2', STAMP_SIZE),
    card('BUNIT', 'DN'),
    'END'.padEnd(80),
  ].join('');
  return Buffer.from(cards.padEnd(FITS_BLOCK_BYTES), 'latin1');
}

const FLUSHED = { level: STAMP_GZIP_LEVEL, finishFlush: constants.Z_FULL_FLUSH } as const;

/** A deflated piece that ends on a full flush, ready to be followed by another piece. */
export function deflatePiece(raw: Uint8Array): Buffer {
  return deflateRawSync(raw, FLUSHED);
}

/** A stored (uncompressed) deflate block, not final: byte-aligned, like a piece that ends on a flush. */
export function storedPiece(raw: Uint8Array): Buffer {
  if (raw.length > 0xffff) throw new RangeError(`a stored deflate block holds at most 65535 bytes, not ${raw.length}`);
  const head = Buffer.allocUnsafe(5 + raw.length);
  head[0] = 0; // BFINAL 0, BTYPE 00 (stored), then padding bits to the byte boundary
  head.writeUInt16LE(raw.length, 1);
  head.writeUInt16LE(~raw.length & 0xffff, 3);
  head.set(raw, 5);
  return head;
}

const HEADER_RAW = fitsHeader();
const HEADER_PIECE = deflatePiece(HEADER_RAW);
/** CRC-32 of the header block: where every stamp's CRC chain starts. */
export const HEADER_CRC = crc32(HEADER_RAW);
const PAD_RAW = Buffer.alloc(PAD_BYTES);
const PAD_FINAL = deflateRawSync(PAD_RAW, { level: STAMP_GZIP_LEVEL });
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

/** Rows of pixels with their deflated piece and what the CRC chain needs. */
export interface RowPiece {
  raw: Buffer;
  deflated: Buffer;
}

/**
 * A gzipped FITS stamp from its pixel rows, top to bottom, as deflated pieces. `crcAfterFirst` is the
 * CRC of the header and the first piece's rows (pooled pieces carry it precomputed); the rest of the
 * rows are run through the CRC here.
 */
export function assembleStamp(pieces: readonly RowPiece[], crcAfterFirst: number): Buffer {
  let crc = crcAfterFirst;
  let rawBytes = 0;
  for (let k = 0; k < pieces.length; k++) {
    rawBytes += pieces[k]!.raw.length;
    if (k > 0) crc = crc32(pieces[k]!.raw, crc);
  }
  if (rawBytes !== DATA_BYTES) throw new RangeError(`stamp rows hold ${rawBytes} bytes, not ${DATA_BYTES}`);
  crc = crc32(PAD_RAW, crc);
  const trailer = Buffer.allocUnsafe(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(FITS_BYTES, 4);
  return Buffer.concat([GZIP_HEADER, HEADER_PIECE, ...pieces.map((p) => p.deflated), PAD_FINAL, trailer]);
}
