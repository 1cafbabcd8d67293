// The precision measurements of issue 9: one forward of the DiT, the VAE and the Qwen text decoder at a given
// precision on fixed seeded inputs, and the deviation of its outputs from the fp32 run. Used by
// test/conformance/precision.test.ts (bounds) and `npm run bench -- precision` (the closing table).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import { QwenTextModel } from '../../src-main/engine/models/qwen-text.ts';
import { VaeModel } from '../../src-main/engine/models/vae.ts';
import {
  precisionPolicy,
  type GraphPrecision,
  type Precision,
  type SessionOptions,
} from '../../src-main/engine/onnx/index.ts';
import { textPositionIds } from '../../src-main/engine/sampling/mrope.ts';

/** A precision as measured on CPU: fp16 ones emulated (onnx/precision.ts: the CPU EP computes fp16 in fp32). */
export function measured(p: Precision, o: { emulate?: boolean; outlierScaling?: boolean } = {}): GraphPrecision {
  const base = precisionPolicy(p);
  const policy = { ...base, outlierScaling: o.outlierScaling ?? base.outlierScaling };
  return { policy, emulateFloat16: (o.emulate ?? true) && (policy.matmul === 'float16' || policy.rest === 'float16') };
}

export interface Deviation {
  /** max |y − y_fp32| */
  readonly maxAbs: number;
  /** ‖y − y_fp32‖₂ / ‖y_fp32‖₂ */
  readonly relL2: number;
  /** max |y_fp32|, the scale the errors compare to. */
  readonly refMax: number;
  /** Non-finite values in y (overflow to ±Inf or NaN). */
  readonly nonFinite: number;
}

export function deviation(y: Float32Array, ref: Float32Array): Deviation {
  if (y.length !== ref.length) throw new RangeError(`deviation: ${y.length} vs ${ref.length} values`);
  let maxAbs = 0,
    num = 0,
    den = 0,
    refMax = 0,
    nonFinite = 0;
  for (let i = 0; i < y.length; i++) {
    const a = y[i]!,
      r = ref[i]!;
    if (!Number.isFinite(a)) {
      nonFinite++;
      continue;
    }
    maxAbs = Math.max(maxAbs, Math.abs(a - r));
    num += (a - r) ** 2;
    den += r * r;
    refMax = Math.max(refMax, Math.abs(r));
  }
  return { maxAbs, relL2: Math.sqrt(num / den), refMax, nonFinite };
}

/** Deterministic N(0, 1) values. */
export function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** Copies a golden component folder (config.json + weights) to `<root>/<component>/`, so caches can be written. */
export function copyComponent(from: string, root: string, component: string, files: readonly string[]): string {
  const to = join(root, component);
  mkdirSync(to, { recursive: true });
  for (const f of files) copyFileSync(join(from, f), join(to, f));
  return to;
}

export interface DitWorkload {
  readonly textTokens: number;
  readonly latent: readonly [number, number];
  readonly ref: readonly [number, number] | null;
}

/** Outputs of one measured configuration and the median milliseconds of one forward over `runs` (after one warm-up when runs > 1). */
export interface Measured {
  readonly outputs: readonly Float32Array[];
  readonly ms: number;
}

async function timed(runs: number, fn: () => Promise<Float32Array[]>): Promise<Measured> {
  if (runs > 1) await fn();
  const ms: number[] = [];
  let outputs: Float32Array[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    outputs = await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { outputs, ms: ms[ms.length >> 1]! };
}

export interface MeasureOptions {
  readonly runs?: number;
  readonly session?: SessionOptions;
}

/** One DiT forward (temb, refs, main stack; the text embedding once) at t = 0.5 on seeded inputs → [velocity]. */
export async function ditForward(
  root: string,
  precision: GraphPrecision,
  w: DitWorkload,
  o: MeasureOptions = {},
): Promise<Measured> {
  const dit = await DitModel.load(root, { precision, session: o.session });
  try {
    const c = dit.config;
    const text = await dit.embedText(gaussian(w.textTokens * c.textFeatDim, 11), w.textTokens);
    const latent = { data: gaussian(c.inChannels * w.latent[0] * w.latent[1], 12), dims: [c.inChannels, ...w.latent] };
    const refs = w.ref
      ? [{ data: gaussian(c.inChannels * w.ref[0] * w.ref[1], 13), dims: [c.inChannels, ...w.ref] }]
      : [];
    return await timed(o.runs ?? 1, async () => [await dit.forwardOne({ latent, timestep: 0.5, text, refs })]);
  } finally {
    await dit.release();
  }
}

/** VAE encode of a seeded smooth image and decode of a seeded latent → [latent mean, decoded image]. */
export async function vaeRoundtrip(
  componentDir: string,
  root: string,
  precision: GraphPrecision,
  size: readonly [number, number],
  o: MeasureOptions = {},
): Promise<Measured> {
  const vae = await VaeModel.load(componentDir, root, { precision, session: o.session });
  try {
    const [H, W] = size;
    const f = vae.config.downscaleFactor;
    const noise = gaussian(3 * H * W, 21);
    // a smooth picture plus a little noise: natural images are mostly low frequency
    const image = Float32Array.from(noise, (n, i) => {
      const x = (i % W) / W,
        y = (Math.floor(i / W) % H) / H;
      return Math.tanh(Math.sin(6 * x + 3 * y + i / (H * W)) * 0.8 + 0.1 * n);
    });
    const latent = gaussian(vae.config.latentChannels * (H / f) * (W / f), 22);
    return await timed(o.runs ?? 1, async () => {
      const { mean } = await vae.encode({ data: image, dims: [1, 3, H, W] });
      const decoded = await vae.decode({ data: latent, dims: [1, vae.config.latentChannels, H / f, W / f] });
      return [mean.data, decoded.data];
    });
  } finally {
    await vae.release();
  }
}

/** The Qwen text decoder on seeded token ids (a prefill) → [last hidden state (the DiT's conditioning), logits]. */
export async function qwenForward(
  dir: string,
  precision: GraphPrecision,
  tokens: number,
  o: MeasureOptions = {},
): Promise<Measured> {
  const model = await QwenTextModel.load(dir, { precision, session: o.session, logits: 'all' });
  try {
    const ids = Array.from(
      gaussian(tokens, 31),
      (g, i) => Math.floor(Math.abs(g) * 7919 + i * 104729) % (model.config.vocabSize - 8),
    );
    const embeds = model.embed(ids);
    return await timed(o.runs ?? 1, async () => {
      const out = await model.forward({ embeds, positions: textPositionIds(tokens) });
      return [out.lastHidden, out.logits];
    });
  } finally {
    await model.release();
  }
}
