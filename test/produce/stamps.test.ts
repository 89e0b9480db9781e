import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ZtfAlert } from '../../src/alert/index.ts';
import { simulateNight } from '../../src/produce/index.ts';
import { FITS_BYTES, HEADER_CRC, assembleStamp, deflatePiece, fitsHeader, storedPiece } from '../../src/produce/fits.ts';

interface Fits {
  cards: Map<string, string>;
  pixels: Float32Array;
}

/** A minimal FITS reader: header cards of the first block, then big-endian float32 pixels. */
function readFits(bytes: Buffer): Fits {
  const cards = new Map<string, string>();
  let end = false;
  for (let i = 0; i < 2880 && !end; i += 80) {
    const card = bytes.subarray(i, i + 80).toString('latin1');
    const key = card.slice(0, 8).trim();
    if (key === 'END') end = true;
    else if (card.slice(8, 10) === '= ') cards.set(key, card.slice(10).split('/')[0]!.trim());
  }
  expect(end).toBe(true);
  const n = Number(cards.get('NAXIS1')) * Number(cards.get('NAXIS2'));
  const pixels = new Float32Array(n);
  for (let k = 0; k < n; k++) pixels[k] = bytes.readFloatBE(2880 + 4 * k);
  return { cards, pixels };
}

function peak(pixels: Float32Array, sign = 1): { x: number; y: number } {
  let best = 0;
  for (let k = 1; k < pixels.length; k++) if (sign * pixels[k]! > sign * pixels[best]!) best = k;
  return { x: best % 63, y: Math.floor(best / 63) };
}

describe('simulated cutouts', () => {
  const alerts: ZtfAlert[] = [...simulateNight({ night: '20240101', count: 400, seed: 11 })];

  it('are gzipped 63×63 BITPIX -32 FITS images of ~13 KB, padded to whole 2880-byte blocks', () => {
    const sizes: number[] = [];
    for (const a of alerts) {
      for (const cutout of [a.cutoutScience!, a.cutoutTemplate!, a.cutoutDifference!]) {
        expect(cutout.stampData.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(true);
        const fits = gunzipSync(cutout.stampData);
        expect(fits.length).toBe(20160);
        expect(fits.length % 2880).toBe(0);
        const { cards, pixels } = readFits(fits);
        expect(cards.get('SIMPLE')).toBe('T');
        expect(cards.get('BITPIX')).toBe('-32');
        expect(cards.get('NAXIS')).toBe('2');
        expect(cards.get('NAXIS1')).toBe('63');
        expect(cards.get('NAXIS2')).toBe('63');
        expect(pixels.every(Number.isFinite)).toBe(true);
        expect(fits.subarray(2880 + 63 * 63 * 4).every((b) => b === 0)).toBe(true);
        sizes.push(cutout.stampData.length);
      }
      expect(a.cutoutScience!.fileName).toBe(`candid${a.candid}_pid${a.candidate.pid}_targ_sci.fits.gz`);
    }
    const mean = sizes.reduce((x, y) => x + y, 0) / sizes.length;
    expect(mean).toBeGreaterThan(11_500);
    expect(mean).toBeLessThan(15_500);
  });

  it('show the source at the centre of the difference image, with the sign of isdiffpos', () => {
    // Bright detections stand far above the noise; their peak must be within a pixel or two of the centre.
    const bright = alerts.filter((a) => a.candidate.magpsf < 17.5);
    expect(bright.length).toBeGreaterThan(5);
    for (const a of bright) {
      const { pixels } = readFits(gunzipSync(a.cutoutDifference!.stampData));
      const p = peak(pixels, a.candidate.isdiffpos === 't' ? 1 : -1);
      expect(Math.abs(p.x - 31)).toBeLessThanOrEqual(2);
      expect(Math.abs(p.y - 31)).toBeLessThanOrEqual(2);
    }
  });

  it('differ sensibly: science on sky, template quieter, difference around zero', () => {
    const a = alerts.find((x) => x.candidate.magpsf > 19.5)!;
    const median = (px: Float32Array) => [...px].sort((x, y) => x - y)[px.length >> 1]!;
    const spread = (px: Float32Array) => {
      const m = median(px);
      return [...px].map((v) => Math.abs(v - m)).sort((x, y) => x - y)[px.length >> 1]!;
    };
    const sci = readFits(gunzipSync(a.cutoutScience!.stampData)).pixels;
    const ref = readFits(gunzipSync(a.cutoutTemplate!.stampData)).pixels;
    const diff = readFits(gunzipSync(a.cutoutDifference!.stampData)).pixels;
    expect(median(sci)).toBeGreaterThan(100);
    expect(Math.abs(median(sci) - median(ref))).toBeLessThan(5);
    expect(Math.abs(median(diff))).toBeLessThan(3);
    expect(spread(ref)).toBeLessThan(spread(sci) / 2);
  });

  it('assembles pieces into the same bytes a one-shot gunzip expects', () => {
    const rows = Buffer.alloc(63 * 63 * 4);
    for (let k = 0; k < 63 * 63; k++) rows.writeFloatBE(100 + (k % 17), k * 4);
    const top = rows.subarray(0, 20 * 252);
    const middle = rows.subarray(20 * 252, 40 * 252);
    const bottom = rows.subarray(40 * 252);
    const stamp = assembleStamp(
      [
        { raw: top, deflated: deflatePiece(top) },
        { raw: middle, deflated: storedPiece(middle) },
        { raw: bottom, deflated: deflatePiece(bottom) },
      ],
      crc32(top, HEADER_CRC),
    );
    const expected = Buffer.concat([fitsHeader(), rows, Buffer.alloc(FITS_BYTES - 2880 - rows.length)]);
    expect(gunzipSync(stamp).equals(expected)).toBe(true);
    expect(gunzipSync(gzipSync(expected)).equals(gunzipSync(stamp))).toBe(true);
  });
});
