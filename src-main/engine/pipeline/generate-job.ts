import { decodeImage } from '../image/decode-image.ts';
import { encodePng } from '../image/encode-png.ts';
import type { TaskContext } from '../host/engine-server.ts';
import { throwIfCancelled } from '../cancellation.ts';
import { generateImage, type GenerationParams, type GenerationProgress, type PromptEmbedding } from './generate.ts';
import { predictedClean, type LatentPreviewer } from './latent-preview.ts';
import type { MemoryMode } from './memory-mode.ts';
import type { ModelSet, OpenModel } from './model-set.ts';
import { encodeChatConditioning, encodeChatNegative } from './chat-conditioning.ts';
import type { TextConditioning } from './conditioning.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import type { ChatTurn } from '../text/prompts.ts';
import type { ProviderRequest } from '../onnx/providers.ts';

/** What the app asks the engine host for: everything plain data, so it crosses the process boundary. */
export interface GenerateJob {
  modelDir: string;
  /** A prompt string (encoded by the model's MLLM) or its embedding (reproducing a reference run). */
  prompt: string | PromptEmbedding;
  negative: string | PromptEmbedding;
  /** Encoded input images (PNG, JPEG, WebP…), in order "image 1…5". */
  images: Uint8Array[];
  params: GenerationParams;
  numImages: number;
  /** Replaces the seeded noise: `numImages` latents `[C, h, w]` at the generation size, back to back. */
  initialLatents?: Float32Array;
  /** Send a small preview image with each step's progress. */
  previews: boolean;
  /**
   * Chat-mode conditioning (§2.2, §7.1 step 3) instead of the standard one: `prompt` (a string) is the user's newest
   * message, `history` the turns before it; the input images also go through the MLLM, and the negative prompt is
   * templated in the chat format without images.
   */
  chat?: { history: ChatTurn[] };
  /** Where to run (settings / --provider); absent: the CPU. */
  provider?: ProviderRequest;
  /** What stays loaded between stages (settings); absent: all-resident. */
  memoryMode?: MemoryMode;
  /** Where converted weights go (the app's cache folder for a model it does not manage); absent: the model folder. */
  weightCacheDir?: string;
}

export interface GeneratedPng {
  png: Uint8Array;
  width: number;
  height: number;
  /** The seed whose noise made this image (the job's seed + its index, so each image reproduces alone). */
  seed: number;
  /** What the transformer computed in (recipes record it: fp16 results differ slightly from fp32 ones). */
  precision: string;
}

const toBytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * Runs a generation job in the engine host: decode inputs, encode prompts, then one image after another with
 * per-step progress (and previews), checking for cancellation between steps.
 */
export async function runGenerateJob(job: GenerateJob, models: ModelSet, ctx: TaskContext): Promise<GeneratedPng[]> {
  const total = job.params.steps * job.numImages;
  ctx.progress({ step: 0, total, stage: 'loading', etaMs: null });
  const images = await Promise.all(job.images.map((bytes, i) => decodeImage(bytes, `image ${i + 1}`)));
  const set = await models.openFor(job.modelDir, job);
  const guided = job.params.textGuidance > 1;
  const { prompt, negative } = job.chat
    ? await chatConditioning(job, job.chat.history, images, set, guided, ctx.signal)
    : {
        prompt: typeof job.prompt === 'string' ? await set.encodePrompt(job.prompt) : job.prompt,
        negative: !guided
          ? null
          : typeof job.negative === 'string'
            ? await set.encodePrompt(job.negative)
            : job.negative,
      };
  const [dit, vae] = await Promise.all([set.dit(), set.vae()]);
  const previewer = job.previews ? await set.previewer() : null;
  throwIfCancelled(ctx.signal);

  const results: GeneratedPng[] = [];
  const samplingStart = performance.now();
  for (let n = 0; n < job.numImages; n++) {
    const seed = (job.params.seed + n) >>> 0;
    const size = job.initialLatents ? job.initialLatents.length / job.numImages : 0;
    const onProgress = async (p: GenerationProgress) => {
      if (p.stage !== 'denoising' || !p.record) return;
      const done = n * job.params.steps + p.step;
      const etaMs = ((performance.now() - samplingStart) / done) * (total - done);
      const preview = previewer ? await previewPng(previewer, p) : undefined;
      ctx.progress({ step: done, total, stage: 'denoising', etaMs, ...(preview ? { preview } : {}) });
    };
    const result = await generateImage(
      dit,
      vae,
      {
        prompt,
        negative,
        images,
        params: { ...job.params, seed },
        ...(job.initialLatents ? { initialLatents: job.initialLatents.subarray(n * size, (n + 1) * size) } : {}),
      },
      { signal: ctx.signal, onProgress },
    );
    throwIfCancelled(ctx.signal);
    results.push({
      png: toBytes(await encodePng(result.rgb)),
      width: result.rgb.width,
      height: result.rgb.height,
      seed,
      precision: set.runtime.precision,
    });
  }
  return results;
}

async function chatConditioning(
  job: GenerateJob,
  history: readonly ChatTurn[],
  images: readonly RgbImage[],
  set: OpenModel,
  guided: boolean,
  signal: AbortSignal,
): Promise<{ prompt: PromptEmbedding; negative: PromptEmbedding | null }> {
  if (typeof job.prompt !== 'string' || typeof job.negative !== 'string')
    throw new RangeError('chat-mode conditioning needs the prompt and negative prompt as text');
  const parts = await set.chatParts();
  const embedding = (c: TextConditioning): PromptEmbedding => ({ hidden: c.hiddenStates, length: c.length });
  const prompt = embedding(
    await encodeChatConditioning(parts, [...history, { role: 'user', text: job.prompt }], images, signal),
  );
  throwIfCancelled(signal);
  return { prompt, negative: guided ? embedding(await encodeChatNegative(parts, job.negative, signal)) : null };
}

async function previewPng(previewer: LatentPreviewer, p: GenerationProgress): Promise<Uint8Array> {
  const r = p.record!;
  return toBytes(await encodePng(previewer.toRgb({ data: predictedClean(r.sampleIn, r.velocity, r.t), dims: r.dims })));
}
