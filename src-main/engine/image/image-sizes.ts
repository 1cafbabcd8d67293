/**
 * Integer size rules of the pipeline: the reference-image size for the VAE path (model-notes.md §5.1
 * step 1) and the generation/output sizes (§5.3). Float steps use the same double arithmetic as the
 * reference's Python, so truncations land on the same integers.
 */
import { ImageError } from './image-error.ts';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface VaeSizeLimits {
  /** max_pixels (pipeline default 1024·1024) */
  readonly maxPixels: number;
  /** max_input_image_side_length (pipeline default 1024; the Gradio app uses 2048) */
  readonly maxSideLength: number;
}

export const DEFAULT_VAE_LIMITS: VaeSizeLimits = Object.freeze({ maxPixels: 1024 * 1024, maxSideLength: 1024 });

/** Sizes are floored to multiples of this (VAE /8 × 2×2 patches). */
export const SIZE_MULTIPLE = 16;

function checkSize(what: string, s: Size): void {
  if (!Number.isSafeInteger(s.width) || !Number.isSafeInteger(s.height) || s.width < 1 || s.height < 1) {
    throw new ImageError('bad-size', `${what} must be positive integers, got ${s.width}×${s.height}`);
  }
}

function checkPositive(what: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v))
    throw new ImageError('bad-argument', `${what} must be a positive number, got ${v}`);
}

const floorTo16 = (v: number) => Math.floor(Math.trunc(v) / SIZE_MULTIPLE) * SIZE_MULTIPLE;

/**
 * §5.1 step 1: r = min(√(maxPixels/(H0·W0)), maxSide/H0, maxSide/W0, 1) (never upscale),
 * H = ⌊⌊H0·r⌋/16⌋·16, W likewise. Throws when a side would become 0 (the image is under 16 px).
 */
export function vaeInputSize(original: Size, limits: VaeSizeLimits = DEFAULT_VAE_LIMITS): Size {
  checkSize('image size', original);
  checkPositive('maxPixels', limits.maxPixels);
  checkPositive('maxSideLength', limits.maxSideLength);
  const { width, height } = original;
  const sideRatio = Math.min(limits.maxSideLength / height, limits.maxSideLength / width);
  const pixelRatio = Math.sqrt(limits.maxPixels / (height * width));
  const ratio = Math.min(pixelRatio, sideRatio, 1);
  const size = { width: floorTo16(width * ratio), height: floorTo16(height * ratio) };
  if (size.width === 0 || size.height === 0) {
    throw new ImageError(
      'bad-size',
      `a ${width}×${height} image is too small for the VAE: after the size limits it would be ${size.width}×${size.height} (each side needs ≥ ${SIZE_MULTIPLE} px)`,
    );
  }
  return size;
}

export interface OutputSizePlan {
  /** size the latent is generated at (the VAE decodes to this) */
  readonly generate: Size;
  /** size delivered to the user; differs from `generate` only when a bilinear resize follows decoding */
  readonly output: Size;
}

/**
 * §5.3. With exactly one input image and alignRes, the output is that image's preprocessed size (no resize).
 * Otherwise the requested size is kept as the output and generation happens at
 * r = min(√(maxPixels/(H·W)), 1), ⌊⌊H·r⌋/16⌋·16 × ⌊⌊W·r⌋/16⌋·16.
 * @param inputSizes preprocessed (vaeInputSize) sizes of the reference images, in order
 */
export function planOutputSize(opts: {
  requested: Size;
  inputSizes: readonly Size[];
  alignRes: boolean;
  maxPixels: number;
}): OutputSizePlan {
  checkPositive('maxPixels', opts.maxPixels);
  const only = opts.inputSizes.length === 1 ? opts.inputSizes[0]! : null;
  if (only && opts.alignRes) {
    checkSize('input image size', only);
    return { generate: only, output: only };
  }
  checkSize('requested size', opts.requested);
  const { width, height } = opts.requested;
  const ratio = Math.min(Math.sqrt(opts.maxPixels / (height * width)), 1);
  const generate = { width: floorTo16(width * ratio), height: floorTo16(height * ratio) };
  if (generate.width === 0 || generate.height === 0) {
    throw new ImageError(
      'bad-size',
      `requested size ${width}×${height} is too small to generate (each side needs ≥ ${SIZE_MULTIPLE} px)`,
    );
  }
  return { generate, output: { width, height } };
}
