/**
 * Antialiased separable resize of 8-bit RGB exactly as Pillow's `Image.resize` (model-notes.md §5.1
 * step 2, §2.4, §9.3 pitfall 12), restated from Pillow's libImaging/Resample.c:
 *
 * - Separable and antialiased: per axis, scale = in/out, filterscale = max(scale, 1), support = filter
 *   support × filterscale. Output pixel i is centred at c = (i + 0.5)·scale; it reads input pixels
 *   [⌊c − support + 0.5⌋, ⌊c + support + 0.5⌋) clipped to the image, weighted by
 *   filter((j − c + 0.5)/filterscale), and the weights are divided by their sum (all in float64).
 * - 8-bit path: each weight becomes a fixed-point integer round-half-away(w·2^p); an output value is
 *   (2^(p−1) + Σ pixel·weight) >> p, clamped to [0, 255]. Pillow uses p = 22.
 * - Horizontal pass first, rounded to u8, then the vertical pass; an axis whose size does not change is
 *   not resampled at all.
 *
 * PyTorch's uint8 antialiased kernel (`F.interpolate(..., antialias=True)`, used by torchvision and by the
 * "fast" transformers image processors) is the same algorithm except that weights are int16: per axis, p is
 * the largest value ≤ 22 for which the largest weight still fits (round(max weight·2^p) < 2^15). That coarser
 * quantisation makes ±1 differences from Pillow in a fraction of a percent of pixels, so it is selectable.
 */
import { ImageError } from './image-error.ts';
import { rgbImage, type RgbImage } from './rgb-image.ts';

export type ResampleFilter = 'lanczos' | 'bicubic';
/** Whose fixed-point weights to reproduce. */
export type ResampleWeights = 'pillow' | 'torch';

const PILLOW_PRECISION_BITS = 32 - 8 - 2;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Pillow's filters: Lanczos-3 (truncated sinc) and Keys cubic with a = −0.5. */
const FILTERS: Record<ResampleFilter, { support: number; weight: (x: number) => number }> = {
  lanczos: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
};

interface Coefficients {
  readonly precisionBits: number;
  readonly kernelSize: number;
  readonly first: Int32Array; // first input index per output pixel
  readonly count: Int32Array; // number of taps per output pixel
  readonly weights: Int32Array; // fixed-point weights, kernelSize per output pixel
}

/** PyTorch's `_compute_index_ranges_int16_weights` precision rule. */
function torchPrecisionBits(maxWeight: number): number {
  let bits = 0;
  while (bits < PILLOW_PRECISION_BITS && Math.trunc(0.5 + maxWeight * 2 ** (bits + 1)) < 1 << 15) bits++;
  return bits;
}

function precompute(inSize: number, outSize: number, filter: ResampleFilter, flavour: ResampleWeights): Coefficients {
  const { support: baseSupport, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const normalised = new Float64Array(outSize * kernelSize);
  const taps = new Float64Array(kernelSize);
  let maxWeight = 0;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0); // C (int) cast truncates
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = weight((x + xmin - center + 0.5) / filterScale);
      taps[x] = w;
      sum += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? taps[x]! / sum : taps[x]!;
      normalised[i * kernelSize + x] = w;
      if (w > maxWeight) maxWeight = w;
    }
    first[i] = xmin;
    count[i] = xmax;
  }
  const precisionBits = flavour === 'pillow' ? PILLOW_PRECISION_BITS : torchPrecisionBits(maxWeight);
  const weights = new Int32Array(normalised.length);
  for (let k = 0; k < normalised.length; k++) {
    const fixed = normalised[k]! * 2 ** precisionBits;
    weights[k] = Math.trunc(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
  }
  return { precisionBits, kernelSize, first, count, weights };
}

const clip8 = (v: number, bits: number) => {
  const q = v >> bits; // arithmetic shift = floor, as in C (sums stay within int32)
  return q < 0 ? 0 : q > 255 ? 255 : q;
};

function resampleHorizontal(
  src: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  c: Coefficients,
): Uint8Array {
  const out = new Uint8Array(outWidth * height * 3);
  const bits = c.precisionBits;
  const half = 1 << (bits - 1);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < outWidth; x++) {
      const base = x * c.kernelSize;
      const x0 = c.first[x]!;
      const n = c.count[x]!;
      let r = half,
        g = half,
        b = half;
      for (let k = 0; k < n; k++) {
        const w = c.weights[base + k]!;
        const p = row + (x0 + k) * 3;
        r += src[p]! * w;
        g += src[p + 1]! * w;
        b += src[p + 2]! * w;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = clip8(r, bits);
      out[o + 1] = clip8(g, bits);
      out[o + 2] = clip8(b, bits);
    }
  }
  return out;
}

function resampleVertical(src: Uint8Array, width: number, outHeight: number, c: Coefficients): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(stride * outHeight);
  const acc = new Float64Array(stride);
  const bits = c.precisionBits;
  for (let y = 0; y < outHeight; y++) {
    const base = y * c.kernelSize;
    const y0 = c.first[y]!;
    const n = c.count[y]!;
    acc.fill(1 << (bits - 1));
    for (let k = 0; k < n; k++) {
      const w = c.weights[base + k]!;
      const row = (y0 + k) * stride;
      for (let j = 0; j < stride; j++) acc[j] = acc[j]! + src[row + j]! * w;
    }
    const o = y * stride;
    for (let j = 0; j < stride; j++) out[o + j] = clip8(acc[j]!, bits);
  }
  return out;
}

export interface ResizeOptions {
  readonly filter: ResampleFilter;
  /** 'pillow' (default): PIL `image.resize((w, h), LANCZOS | BICUBIC)`; 'torch': torch uint8 antialias */
  readonly weights?: ResampleWeights;
}

/** Resize an RGB image to width × height with antialiasing (see the file header for the exact arithmetic). */
export function resizeRgb(image: RgbImage, width: number, height: number, opts: ResizeOptions): RgbImage {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ImageError('bad-size', `resize target must be positive integers, got ${width}×${height}`);
  }
  const flavour = opts.weights ?? 'pillow';
  let data = image.data;
  if (width !== image.width)
    data = resampleHorizontal(
      data,
      image.width,
      image.height,
      width,
      precompute(image.width, width, opts.filter, flavour),
    );
  if (height !== image.height)
    data = resampleVertical(data, width, height, precompute(image.height, height, opts.filter, flavour));
  return rgbImage(width, height, data === image.data ? Uint8Array.from(data) : data);
}
