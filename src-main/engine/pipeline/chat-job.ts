import type { TaskContext } from '../host/engine-server.ts';
import { decodeImage } from '../image/decode-image.ts';
import type { SamplingOptions } from '../models/qwen-text.ts';
import type { ProviderRequest } from '../onnx/providers.ts';
import type { ChatTurn } from '../text/prompts.ts';
import { ChatPipeline, DEFAULT_MAX_NEW_TOKENS } from './chat.ts';
import type { MemoryMode } from './memory-mode.ts';
import type { ModelSet } from './model-set.ts';

/** A chat answer the app asks the engine host for (plain data, so it crosses the process boundary). */
export interface ChatJob {
  readonly modelDir: string;
  /** The conversation so far, ending with the user's new message. */
  readonly turns: readonly ChatTurn[];
  /** The input images, encoded, in order "image 1…5" (`<img1>`…, §2.2). */
  readonly images: readonly Uint8Array[];
  /** Default 256 (§7.1). */
  readonly maxNewTokens?: number;
  /** Overrides of the checkpoint's generation_config.json. */
  readonly sampling?: Partial<SamplingOptions>;
  readonly seed?: number;
  /** Where to run (settings); absent: the CPU. */
  readonly provider?: ProviderRequest;
  readonly memoryMode?: MemoryMode;
  /** Where converted weights go for a model folder Atelier does not manage (weights/cache-location.ts). */
  readonly weightCacheDir?: string;
}

/** The answer as it grows: each piece concatenates to the text so far (routed by kind, protocol.ts). */
export type ChatReport = { readonly kind: 'chat'; readonly piece: string };

export interface ChatOutcome {
  /** The reply, `<|im_end|>` removed (§7.1 step 4). */
  readonly text: string;
  /** The reply starts with `<|img|>`: the model asks for a picture (§7.1 step 3). */
  readonly wantsImage: boolean;
  readonly stopReason: 'stop-token' | 'max-tokens';
  readonly promptTokens: number;
  readonly newTokens: number;
  /** Loading (or finding loaded) the MLLM. */
  readonly loadMs: number;
  /** From the models being ready to the first new token: image encoding and the prompt's prefill. */
  readonly firstTokenMs: number;
  /** From the first to the last new token. */
  readonly decodeMs: number;
}

/** Answers one chat turn in the engine host with the MLLM prompt encoding also uses, streaming the text as reports. */
export async function runChatJob(job: ChatJob, models: ModelSet, ctx: TaskContext): Promise<ChatOutcome> {
  const total = job.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  ctx.progress({ step: 0, total, stage: 'loading', etaMs: null });
  const start = performance.now();
  const images = await Promise.all(job.images.map((bytes, i) => decodeImage(bytes, `image ${i + 1}`)));
  const set = await models.openFor(job.modelDir, job);
  const parts = await set.chatParts();
  const chat = new ChatPipeline(parts.tokenizer, parts.model, {
    loadVision: parts.vision,
    defaults: parts.defaults,
    imageOptions: parts.imageOptions,
  });
  const ready = performance.now();
  let first = ready;
  let count = 0;
  const result = await chat.chat({
    turns: job.turns,
    images,
    maxNewTokens: total,
    ...(job.sampling ? { sampling: job.sampling } : {}),
    ...(job.seed !== undefined ? { seed: job.seed } : {}),
    signal: ctx.signal,
    // Said at once, even when the first token is half a character and shows later: the prompt has been read.
    onFirstToken: () => {
      first = performance.now();
      ctx.progress({ step: 0, total, stage: 'answering', etaMs: null });
    },
    onText: (piece) =>
      ctx.progress({ step: ++count, total, stage: 'answering', etaMs: null, report: { kind: 'chat', piece } }),
  });
  const end = performance.now();
  return {
    text: result.text,
    wantsImage: result.wantsImage,
    stopReason: result.stopReason,
    promptTokens: result.promptTokens,
    newTokens: result.tokens.length,
    loadMs: ready - start,
    firstTokenMs: first - ready,
    decodeMs: end - first,
  };
}
