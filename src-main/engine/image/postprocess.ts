/**
 * Decoder output → user pixels, model-notes.md §5.9 and §5.3:
 * optional bilinear resize to the requested size (torch `F.interpolate(mode='bilinear')`: align_corners=false,
 * no antialias), then clamp(x/2 + 0.5, 0, 1)·255 rounded half-to-even (numpy `round`) to u8 HWC.
 * Float steps are rounded to float32 like the reference's float32 tensors.
 */
import { ImageError } from './image-error.ts';
import { rgbImage, type RgbImage } from './rgb-image.ts';
import { roundHalfEven } from './round-half-even.ts';

/** A float image in planar CHW layout (the VAE decoder's [1, C, H, W] without the batch axis). */
export interface PlanarImage {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

function checkPlanar(image: PlanarImage): void {
  const { channels, height, width, data } = image;
  if (
    ![channels, height, width].every((v) => Number.isSafeInteger(v) && v >= 1) ||
    data.length !== channels * height * width
  ) {
    throw new ImageError(
      'bad-argument',
      `planar image ${channels}×${height}×${width} does not match its ${data.length} values`,
    );
  }
}

interface AxisTaps {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly frac: Float32Array; // weight of `hi`
}

/** torch `area_pixel_compute_source_index` with align_corners=false: src = (dst + 0.5)·in/out − 0.5, clamped at 0. */
function axisTaps(inSize: number, outSize: number): AxisTaps {
  const scale = Math.fround(inSize / outSize);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.max(Math.fround(Math.fround(scale * (i + 0.5)) - 0.5), 0);
    const i0 = Math.trunc(src);
    lo[i] = i0;
    hi[i] = i0 < inSize - 1 ? i0 + 1 : i0;
    frac[i] = src - i0;
  }
  return { lo, hi, frac };
}

/** Bilinear resize of a CHW float image (torch semantics: align_corners=false, no antialias). */
export function resizeBilinear(image: PlanarImage, height: number, width: number): PlanarImage {
  checkPlanar(image);
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width) || height < 1 || width < 1) {
    throw new ImageError('bad-size', `bilinear target must be positive integers, got ${width}×${height}`);
  }
  const { channels, height: inH, width: inW, data } = image;
  const ys = axisTaps(inH, height);
  const xs = axisTaps(inW, width);
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    const plane = c * inH * inW;
    for (let y = 0; y < height; y++) {
      const row0 = plane + ys.lo[y]! * inW;
      const row1 = plane + ys.hi[y]! * inW;
      const wy1 = ys.frac[y]!;
      const wy0 = Math.fround(1 - wy1);
      const o = (c * height + y) * width;
      for (let x = 0; x < width; x++) {
        const x0 = xs.lo[x]!;
        const x1 = xs.hi[x]!;
        const wx1 = xs.frac[x]!;
        const wx0 = Math.fround(1 - wx1);
        const top = Math.fround(Math.fround(wx0 * data[row0 + x0]!) + Math.fround(wx1 * data[row0 + x1]!));
        const bottom = Math.fround(Math.fround(wx0 * data[row1 + x0]!) + Math.fround(wx1 * data[row1 + x1]!));
        out[o + x] = Math.fround(wy0 * top) + Math.fround(wy1 * bottom);
      }
    }
  }
  return { channels, height, width, data: out };
}

/** §5.9: decoder output in ≈[−1, 1] (3 channels) → u8 RGB: round(clamp(x/2 + 0.5, 0, 1)·255), ties to even. */
export function decodedToRgb(image: PlanarImage): RgbImage {
  checkPlanar(image);
  if (image.channels !== 3)
    throw new ImageError('bad-argument', `decoded image must have 3 channels, got ${image.channels}`);
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = data[c * plane + i]!;
      const unit = Math.min(Math.max(Math.fround(v / 2 + 0.5), 0), 1); // NaN → 0 below
      out[i * 3 + c] = Number.isNaN(unit) ? 0 : roundHalfEven(Math.fround(unit * 255));
    }
  }
  return rgbImage(width, height, out);
}
