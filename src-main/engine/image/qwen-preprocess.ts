/**
 * Qwen2-VL / Qwen2.5-VL image processor (chat mode's vision tower input), model-notes.md §2.4:
 * smart_resize to multiples of 28 → antialiased bicubic (a = −0.5) resize → ×1/255 → CLIP mean/std →
 * 2 identical temporal frames → patches in 2×2-merge-window order, each (channel, frame, 14 rows, 14 cols).
 *
 * transformers ships two implementations that differ in the last bit of a few pixels:
 * - 'slow' (`Qwen2VLImageProcessor`): PIL bicubic; float32(v·(1/255) in float64), then (x − mean)/std in float32;
 * - 'fast' (`Qwen2VLImageProcessorFast`, the default in recent transformers): torch uint8 antialiased bicubic
 *   (int16 weights, resample.ts), then one fused (v − 255·mean)/(255·std) with float32 mean/std tensors.
 * The golden preprocess/qwen_preprocess.safetensors was produced by the fast one (bit-exact pixels here);
 * the slow one differs from it by one 8-bit level in < 1 % of values.
 */
import { ImageError } from './image-error.ts';
import { resizeRgb } from './resample.ts';
import type { RgbImage } from './rgb-image.ts';
import type { Size } from './image-sizes.ts';
import { roundHalfEven } from './round-half-even.ts';

export type QwenProcessorFlavour = 'fast' | 'slow';

export interface QwenImageOptions {
  readonly processor: QwenProcessorFlavour;
  readonly minPixels: number;
  readonly maxPixels: number;
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly mergeSize: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** The stock Qwen2.5-VL preprocessor_config.json values (§1.6). */
export const QWEN_IMAGE_DEFAULTS: QwenImageOptions = Object.freeze<QwenImageOptions>({
  processor: 'fast',
  minPixels: 3136,
  maxPixels: 12845056,
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
});

/** The processor's aspect-ratio limit (`smart_resize` rejects anything more extreme). */
const MAX_ASPECT_RATIO = 200;

/** `smart_resize` of the Qwen2-VL processor: both sides multiples of `factor`, area within [minPixels, maxPixels]. */
export function smartResize(original: Size, opts: { factor: number; minPixels: number; maxPixels: number }): Size {
  const { width, height } = original;
  const { factor, minPixels, maxPixels } = opts;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ImageError('bad-size', `image size must be positive integers, got ${width}×${height}`);
  }
  if (Math.max(height, width) / Math.min(height, width) > MAX_ASPECT_RATIO) {
    throw new ImageError(
      'bad-size',
      `a ${width}×${height} image is too elongated for the vision encoder (aspect ratio must be ≤ ${MAX_ASPECT_RATIO})`,
    );
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { width: w, height: h };
}

export interface QwenVisionInput {
  /** [patches, C·T·P·P] = [N, 1176] with the defaults */
  readonly pixelValues: Float32Array;
  readonly patches: number;
  readonly patchDim: number;
  /** image_grid_thw = [1, height/patch, width/patch] */
  readonly gridThw: readonly [number, number, number];
}

/** 8-bit value → normalised float32 for one channel, rounded the way the chosen processor rounds. */
function channelLut(flavour: QwenProcessorFlavour, mean: number, std: number): Float32Array {
  const lut = new Float32Array(256);
  if (flavour === 'slow') {
    // rescale: float64 v·(1/255) cast to float32; normalise: float32 (x − mean)/std
    const m = Math.fround(mean);
    const s = Math.fround(std);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v * (1 / 255)) - m) / s;
  } else {
    // The fast processor folds the rescale into float32 mean/std tensors: mean·255 and std·255 in float32.
    const m = Math.fround(Math.fround(mean) * 255);
    const s = Math.fround(Math.fround(std) * 255);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(v - m) / s;
  }
  return lut;
}

/** Normalised planes [3, H, W] of the resized image. */
function normalisedPlanes(image: RgbImage, o: QwenImageOptions): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  const luts = [0, 1, 2].map((c) => channelLut(o.processor, o.mean[c]!, o.std[c]!));
  for (let c = 0; c < 3; c++) {
    const lut = luts[c]!;
    for (let i = 0; i < plane; i++) out[c * plane + i] = lut[image.data[i * 3 + c]!]!;
  }
  return out;
}

/** §2.4 preprocessing of one RGB image into `pixel_values` and `image_grid_thw`. */
export function preprocessForQwen(image: RgbImage, options: QwenImageOptions = QWEN_IMAGE_DEFAULTS): QwenVisionInput {
  const { patchSize: P, temporalPatchSize: T, mergeSize: M } = options;
  const size = smartResize(image, { factor: P * M, minPixels: options.minPixels, maxPixels: options.maxPixels });
  const weights = options.processor === 'fast' ? 'torch' : 'pillow';
  const planes = normalisedPlanes(resizeRgb(image, size.width, size.height, { filter: 'bicubic', weights }), options);
  const gridH = size.height / P;
  const gridW = size.width / P;
  const patchDim = 3 * T * P * P;
  const patches = gridH * gridW;
  const out = new Float32Array(patches * patchDim);
  const plane = size.width * size.height;
  let o = 0;
  // Patch order: merge windows row-major over (gridH/M, gridW/M), then the M×M patches inside row-major.
  for (let wy = 0; wy < gridH / M; wy++) {
    for (let wx = 0; wx < gridW / M; wx++) {
      for (let my = 0; my < M; my++) {
        for (let mx = 0; mx < M; mx++) {
          const top = (wy * M + my) * P;
          const left = (wx * M + mx) * P;
          for (let c = 0; c < 3; c++) {
            for (let t = 0; t < T; t++) {
              // the single frame repeated T times (temporal duplication)
              for (let py = 0; py < P; py++) {
                const row = c * plane + (top + py) * size.width + left;
                out.set(planes.subarray(row, row + P), o);
                o += P;
              }
            }
          }
        }
      }
    }
  }
  return { pixelValues: out, patches, patchDim, gridThw: [1, gridH, gridW] };
}
