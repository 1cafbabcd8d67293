/**
 * Reference-image preprocessing for the VAE encoder, model-notes.md §5.1:
 * size rule (image-sizes.ts) → PIL Lanczos resize (resample.ts, Pillow weights) → v/255·2 − 1 as [1, 3, H, W] float32.
 * The reference computes x/255 in float32, then 2x − 1 in float32; the same rounding is applied here.
 */
import { DEFAULT_VAE_LIMITS, vaeInputSize, type VaeSizeLimits } from './image-sizes.ts';
import { resizeRgb } from './resample.ts';
import type { RgbImage } from './rgb-image.ts';

export interface VaeInput {
  /** [1, 3, height, width], values in [−1, 1] */
  readonly tensor: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** §5.1 steps 1–3 for one reference image (already RGB, EXIF-oriented: see decodeImage). */
export function preprocessForVae(image: RgbImage, limits: VaeSizeLimits = DEFAULT_VAE_LIMITS): VaeInput {
  const { width, height } = vaeInputSize(image, limits);
  const resized = resizeRgb(image, width, height, { filter: 'lanczos', weights: 'pillow' });
  const plane = width * height;
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = 2 * Math.fround(v / 255) - 1;
  const tensor = new Float32Array(3 * plane);
  const px = resized.data;
  for (let i = 0; i < plane; i++) {
    tensor[i] = lut[px[i * 3]!]!;
    tensor[plane + i] = lut[px[i * 3 + 1]!]!;
    tensor[2 * plane + i] = lut[px[i * 3 + 2]!]!;
  }
  return { tensor, width, height };
}
