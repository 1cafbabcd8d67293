import type { DitAcceleration, DitModel, FloatTensor } from '../models/dit.ts';
import { throwIfCancelled } from '../cancellation.ts';
import { planOutputSize, vaeInputSize, type OutputSizePlan, type Size } from '../image/image-sizes.ts';
import { decodedToRgb, resizeBilinear, type PlanarImage } from '../image/postprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { preprocessForVae } from '../image/vae-preprocess.ts';
import { randomNormalFloat32 } from '../sampling/rng.ts';
import { denoise, type SchedulerName, type StepRecord } from './denoise.ts';

/** The VAE as the pipeline uses it: scaled latents in, images in [−1, 1] out (§5.2, §5.9). */
export interface LatentCodec {
  readonly latentChannels: number;
  /** Image `[1, 3, H, W]` in [−1, 1] → the posterior mean, shifted and scaled: `[C, H/8, W/8]`. */
  encode(image: Float32Array, size: Size): Promise<FloatTensor>;
  /** Scaled latent `[C, h, w]` → image `[3, 8h, 8w]` in about [−1, 1]. */
  decode(latent: FloatTensor): Promise<PlanarImage>;
}

export interface GenerationParams {
  steps: number;
  textGuidance: number;
  imageGuidance: number;
  cfgRange: readonly [number, number];
  scheduler: SchedulerName;
  /** Requested output size (ignored with exactly one input image, §5.3). */
  width: number;
  height: number;
  maxPixels: number;
  maxSideLength: number;
  seed: number;
  /** TeaCache / TaylorSeer (§6); off when absent. */
  acceleration?: DitAcceleration;
}

/** Text conditioning of one prompt: the MLLM's last hidden states of its valid tokens, `[length, text_feat_dim]`. */
export interface PromptEmbedding {
  hidden: Float32Array;
  length: number;
}

export interface GenerationSpec {
  prompt: PromptEmbedding;
  /** Needed when text guidance > 1. */
  negative: PromptEmbedding | null;
  images: readonly RgbImage[];
  params: GenerationParams;
  /** Replaces the seeded noise (reproducing a reference run); `[C, h, w]` at the generation size. */
  initialLatents?: Float32Array;
}

export interface GenerationProgress {
  stage: 'encoding' | 'denoising' | 'decoding';
  step: number;
  steps: number;
  record?: StepRecord;
}

export interface GenerationResult {
  /** Float image `[3, H, W]` in [0, 1] before 8-bit rounding (what the reference's `image` holds). */
  image: PlanarImage;
  rgb: RgbImage;
  plan: OutputSizePlan;
  latent: Float32Array;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  /** Awaited, so a slow consumer (preview encoding) paces the loop instead of piling up work. */
  onProgress?: (p: GenerationProgress) => void | Promise<void>;
}

/** One image through §5.11: encode references, denoise with guidance, decode, resize, quantise. */
export async function generateImage(
  dit: DitModel,
  vae: LatentCodec,
  spec: GenerationSpec,
  o: GenerateOptions = {},
): Promise<GenerationResult> {
  const { params } = spec;
  const signal = o.signal ?? new AbortController().signal;
  const limits = { maxPixels: params.maxPixels, maxSideLength: params.maxSideLength };
  const plan = planOutputSize({
    requested: { width: params.width, height: params.height },
    inputSizes: spec.images.map((img) => vaeInputSize(img, limits)),
    alignRes: true,
    maxPixels: params.maxPixels,
  });

  const refs: FloatTensor[] = [];
  for (const [j, image] of spec.images.entries()) {
    throwIfCancelled(signal);
    await o.onProgress?.({ stage: 'encoding', step: j, steps: spec.images.length });
    const input = preprocessForVae(image, limits);
    refs.push(await vae.encode(input.tensor, input));
  }

  const C = vae.latentChannels;
  const h = plan.generate.height / 8;
  const w = plan.generate.width / 8;
  const count = C * h * w;
  const initial = spec.initialLatents ?? randomNormalFloat32(params.seed, count);
  if (initial.length !== count)
    throw new RangeError(`initial latents hold ${initial.length} values, expected [${C}, ${h}, ${w}]`);

  const guided = params.textGuidance > 1;
  if (guided && !spec.negative) throw new RangeError('text guidance > 1 needs the negative prompt embedding');
  const prompt = await dit.embedText(spec.prompt.hidden, spec.prompt.length);
  const negative = guided && spec.negative ? await dit.embedText(spec.negative.hidden, spec.negative.length) : null;

  const latent = await denoise({
    dit,
    initial: { data: initial, dims: [C, h, w] },
    steps: params.steps,
    scheduler: params.scheduler,
    guidance: { textScale: params.textGuidance, imageScale: params.imageGuidance, cfgRange: params.cfgRange },
    branches: { prompt, negative, refs },
    ...(params.acceleration ? { acceleration: params.acceleration } : {}),
    signal,
    onStep: (record) => o.onProgress?.({ stage: 'denoising', step: record.step + 1, steps: record.steps, record }),
  });

  throwIfCancelled(signal);
  await o.onProgress?.({ stage: 'decoding', step: 0, steps: 1 });
  let decoded = await vae.decode({ data: latent, dims: [C, h, w] });
  const { output } = plan;
  if (output.width !== decoded.width || output.height !== decoded.height)
    decoded = resizeBilinear(decoded, output.height, output.width);
  return { image: toUnitRange(decoded), rgb: decodedToRgb(decoded), plan, latent };
}

/** clamp(x/2 + 0.5, 0, 1) in float32, as §5.9 before the ×255. */
function toUnitRange(image: PlanarImage): PlanarImage {
  const data = new Float32Array(image.data.length);
  for (let i = 0; i < data.length; i++)
    data[i] = Math.min(1, Math.max(0, Math.fround(Math.fround(image.data[i]! / 2) + 0.5)));
  return { ...image, data };
}
