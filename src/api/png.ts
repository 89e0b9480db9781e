import pngjs from 'pngjs';
import type { FitsImage } from './fits.ts';

/** The percentiles the stretch clips at: the faintest and brightest 0.5 % of pixels saturate. */
const LOW_PERCENTILE = 0.5;
const HIGH_PERCENTILE = 99.5;
/** asinh softening, as a fraction of the clipped range: bright cores compress, faint wings stay visible. */
const ASINH_SOFTENING = 0.1;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/**
 * 8-bit grey levels of an image, for the eye: values clipped at the 0.5 / 99.5 percentiles of the finite
 * pixels, then an asinh stretch. Rows are flipped, since FITS stores the bottom row first and a PNG the
 * top row. Blank (NaN) pixels are black.
 */
export function stretch(image: FitsImage): Buffer {
  const { width, height, data } = image;
  const finite = Float64Array.from(data.filter((v) => Number.isFinite(v))).sort();
  const lo = percentile(finite, LOW_PERCENTILE);
  const hi = percentile(finite, HIGH_PERCENTILE);
  const range = hi > lo ? hi - lo : 1;
  const soft = ASINH_SOFTENING;
  const top = Math.asinh(1 / soft);
  const out = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width;
    for (let x = 0; x < width; x++) {
      const v = data[src + x]!;
      if (!Number.isFinite(v)) continue;
      const t = Math.min(1, Math.max(0, (v - lo) / range));
      out[y * width + x] = Math.round((Math.asinh(t / soft) / top) * 255);
    }
  }
  return out;
}

/** A greyscale 8-bit PNG of the image, stretched for display. */
export function toPng(image: FitsImage): Buffer {
  const png = new pngjs.PNG({ width: image.width, height: image.height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  png.data = stretch(image);
  return pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}
