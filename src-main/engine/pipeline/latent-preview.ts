import type { FloatTensor } from '../models/dit.ts';
import { rgbImage, type RgbImage } from '../image/rgb-image.ts';
import { SeededRng } from '../sampling/rng.ts';
import type { LatentCodec } from './generate.ts';

const FIT_SIZE = 16;
const FIT_SAMPLES = 3;

/**
 * A cheap step preview: each latent pixel mapped to RGB by an affine projection, fitted once per VAE by least
 * squares against what its decoder makes of random latents (8×8-averaged). No published factors are needed,
 * and it works for any VAE config, tiny test models included.
 */
export class LatentPreviewer {
  private constructor(
    private readonly weights: Float64Array,
    private readonly channels: number,
  ) {}

  static async fit(vae: LatentCodec): Promise<LatentPreviewer> {
    const C = vae.latentChannels;
    const n = C + 1; // affine: C weights + bias per output channel
    const ata = new Float64Array(n * n);
    const atb = new Float64Array(3 * n);
    const rng = new SeededRng(0x5eed);
    const row = new Float64Array(n);
    for (let s = 0; s < FIT_SAMPLES; s++) {
      const latent = rng.fillNormal(new Float32Array(C * FIT_SIZE * FIT_SIZE));
      const image = await vae.decode({ data: latent, dims: [C, FIT_SIZE, FIT_SIZE] });
      const scale = image.width / FIT_SIZE;
      for (let y = 0; y < FIT_SIZE; y++) {
        for (let x = 0; x < FIT_SIZE; x++) {
          for (let c = 0; c < C; c++) row[c] = latent[(c * FIT_SIZE + y) * FIT_SIZE + x]!;
          row[C] = 1;
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ata[i * n + j]! += row[i]! * row[j]!;
          for (let k = 0; k < 3; k++) {
            const target = blockMean(image.data, k, image.height, image.width, y * scale, x * scale, scale);
            for (let i = 0; i < n; i++) atb[k * n + i]! += row[i]! * target;
          }
        }
      }
    }
    for (let i = 0; i < n; i++) ata[i * n + i]! += 1e-6; // keeps the solve stable if a channel is constant
    const weights = new Float64Array(3 * n);
    for (let k = 0; k < 3; k++) weights.set(solve(ata, atb.subarray(k * n, (k + 1) * n), n), k * n);
    return new LatentPreviewer(weights, C);
  }

  /** The latent `[C, h, w]` as an h×w RGB image (values in [−1, 1] mapped to 0–255). */
  toRgb(latent: FloatTensor): RgbImage {
    const [C, h, w] = latent.dims as [number, number, number];
    if (C !== this.channels) throw new RangeError(`preview expects ${this.channels} latent channels, got ${C}`);
    const n = C + 1;
    const out = new Uint8Array(h * w * 3);
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < 3; k++) {
        let v = this.weights[k * n + C]!;
        for (let c = 0; c < C; c++) v += this.weights[k * n + c]! * latent.data[c * h * w + p]!;
        out[p * 3 + k] = Math.max(0, Math.min(255, Math.round((v / 2 + 0.5) * 255)));
      }
    }
    return rgbImage(w, h, out);
  }
}

/** x̂_1 = x_t + (1 − t)·v: the clean latent the model currently predicts (§5.6: x_t = t·x_1 + (1 − t)·ε, v = x_1 − ε). */
export function predictedClean(sample: Float32Array, velocity: Float32Array, t: number): Float32Array {
  const out = new Float32Array(sample.length);
  for (let i = 0; i < out.length; i++) out[i] = sample[i]! + (1 - t) * velocity[i]!;
  return out;
}

function blockMean(
  data: Float32Array,
  channel: number,
  height: number,
  width: number,
  y0: number,
  x0: number,
  size: number,
): number {
  let sum = 0;
  for (let y = y0; y < y0 + size; y++)
    for (let x = x0; x < x0 + size; x++) sum += data[(channel * height + y) * width + x]!;
  return sum / (size * size);
}

/** Gaussian elimination with partial pivoting on a small dense system (n ≤ ~33). */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c]!, m[col * n + c]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / m[col * n + col]!;
      for (let c = col; c < n; c++) m[r * n + c]! -= f * m[col * n + c]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let c = r + 1; c < n; c++) s -= m[r * n + c]! * x[c]!;
    x[r] = s / m[r * n + r]!;
  }
  return x;
}
