import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError } from '../cancellation.ts';
import {
  QWEN_IMAGE_DEFAULTS,
  preprocessForQwen,
  type QwenImageOptions,
  type QwenVisionInput,
} from '../image/qwen-preprocess.ts';
import type { RgbImage } from '../image/rgb-image.ts';
import { readConfigFile, type JsonObject } from '../models/config-error.ts';
import {
  QwenConfigError,
  QwenTextModel,
  generateTokens,
  readGenerationDefaults,
  type DecoderPrompt,
  type GenerationDefaults,
  type QwenTextLoadOptions,
  type SamplingOptions,
} from '../models/qwen-text.ts';
import { QwenVisionModel, type VisionInput } from '../models/qwen-vision.ts';
import { mropePositionIds } from '../sampling/mrope.ts';
import {
  CHAT_STOP_TOKENS,
  chatConversationPrompt,
  expandImagePads,
  readChatReply,
  type ChatTurn,
} from '../text/prompts.ts';
import { SPECIAL_TOKENS } from '../text/special-tokens.ts';
import { loadTokenizer, type Tokenizer } from '../text/tokenizer.ts';

/** The vision tower as chat uses it: image inputs → `[Σ tokens, D]` embeddings in order (qwen-vision.ts). */
export interface ImageEmbedder {
  embedImages(inputs: readonly VisionInput[]): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface ChatRequest {
  /** The conversation so far, ending with the user's new message (§2.2 format, chatConversationPrompt). */
  readonly turns: readonly ChatTurn[];
  /** Raw images, in the order the conversation refers to them (`<img1>`, `<img2>`, …, §2.2). */
  readonly images?: readonly RgbImage[];
  /** Default 256 (`max_new_tokens` of the chat pipeline, §7.1). */
  readonly maxNewTokens?: number;
  /** Overrides of the checkpoint's generation_config.json defaults. */
  readonly sampling?: Partial<SamplingOptions>;
  readonly seed?: number | bigint;
  readonly signal?: AbortSignal;
  /** Receives the reply as it grows (stop tokens are not shown); pieces concatenate to the reply. */
  readonly onText?: (piece: string) => void;
  /** Called when the prompt has been read (prefill done) and the first token is chosen, for timing. */
  readonly onFirstToken?: () => void;
}

export interface ChatResult {
  /** The reply as the chat pipeline returns it: decoded with special tokens kept, `<|im_end|>` removed (§7.1 step 4). */
  readonly text: string;
  /** The reply starts with `<|img|>`: the model asks to generate an image from the chat prompt (§7.1 step 3). */
  readonly wantsImage: boolean;
  readonly tokens: readonly number[];
  readonly stopReason: 'stop-token' | 'max-tokens';
  readonly promptTokens: number;
}

export const DEFAULT_MAX_NEW_TOKENS = 256;

/**
 * Understanding chat (model-notes.md §7.1 step 2, §2.2): the hand-built chat prompt with one vision block
 * per image, image pads expanded to the merged patch count, vision embeddings spliced in at the pad positions,
 * M-RoPE ids over text and image grids, then KV-cache decoding that streams text token by token.
 */
export class ChatPipeline {
  private vision: ImageEmbedder | null = null;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly model: QwenTextModel,
    private readonly parts: {
      readonly loadVision: () => Promise<ImageEmbedder>;
      readonly defaults: GenerationDefaults;
      readonly imageOptions: QwenImageOptions;
    },
  ) {}

  /** Tokenizer from `<modelDir>/processor`, decoder and (on first image) vision tower from `<modelDir>/mllm`. */
  static async load(modelDir: string, options: { model?: QwenTextLoadOptions } = {}): Promise<ChatPipeline> {
    const mllm = join(modelDir, 'mllm');
    const processor = join(modelDir, 'processor');
    const tokenizer = await loadTokenizer(processor);
    const model = await QwenTextModel.load(mllm, options.model);
    return new ChatPipeline(tokenizer, model, {
      loadVision: () => QwenVisionModel.load(mllm, mllm, { session: options.model?.session }),
      defaults: readGenerationDefaults(mllm),
      imageOptions: readImageOptions(processor),
    });
  }

  /** Decoding settings used where a request sets none (the checkpoint's generation_config.json, §1.6). */
  get defaultSampling(): SamplingOptions {
    return this.parts.defaults.sampling;
  }

  /** The ids that end a reply: the chat stop strings the tokenizer knows, plus the checkpoint's EOS ids. */
  get stopTokenIds(): number[] {
    const ids = CHAT_STOP_TOKENS.filter((t) => this.tokenizer.hasSpecialToken(t)).map((t) =>
      this.tokenizer.specialTokenId(t),
    );
    return [...new Set([...ids, ...this.parts.defaults.eosTokenIds])];
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const prompt = await this.buildPrompt(
      chatConversationPrompt(request.turns, request.images?.length ?? 0),
      request.images ?? [],
      request.signal,
    );
    const stops = new Set(this.stopTokenIds);
    const stream = this.tokenizer.streamDecoder();
    const tokens: number[] = [];
    let stopped = false;
    for await (const token of generateTokens(this.model, prompt, {
      maxNewTokens: request.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS,
      stopTokenIds: [...stops],
      sampling: { ...this.parts.defaults.sampling, ...request.sampling },
      seed: request.seed,
      signal: request.signal,
    })) {
      if (tokens.length === 0) request.onFirstToken?.();
      tokens.push(token);
      if (stops.has(token)) {
        stopped = true;
        break;
      }
      const piece = stream.push(token);
      if (piece !== '') request.onText?.(piece);
    }
    const rest = stream.flush();
    if (rest !== '') request.onText?.(rest);
    const reply = readChatReply(this.tokenizer.decode(tokens));
    return { ...reply, tokens, stopReason: stopped ? 'stop-token' : 'max-tokens', promptTokens: prompt.ids.length };
  }

  async release(): Promise<void> {
    const vision = this.vision;
    this.vision = null;
    await Promise.all([this.model.release(), vision?.release()]);
  }

  /** The decoder input for a §2.2 prompt with one `<|image_pad|>` per image (chat-conditioning.ts uses it too). */
  buildPrompt(text: string, images: readonly RgbImage[], signal?: AbortSignal): Promise<DecoderPrompt> {
    return chatDecoderPrompt(
      {
        tokenizer: this.tokenizer,
        model: this.model,
        imageOptions: this.parts.imageOptions,
        embedImages: (inputs) => this.embedImages(inputs),
      },
      text,
      images,
      signal,
    );
  }

  private async embedImages(inputs: readonly QwenVisionInput[]): Promise<Float32Array> {
    this.vision ??= await this.parts.loadVision();
    return this.vision.embedImages(inputs);
  }
}

/** What turning a chat prompt into decoder input needs. */
export interface ChatPromptParts {
  readonly tokenizer: Tokenizer;
  readonly model: QwenTextModel;
  readonly imageOptions: QwenImageOptions;
  embedImages(inputs: readonly QwenVisionInput[]): Promise<Float32Array>;
}

/**
 * §2.2: prompt text (one `<|image_pad|>` per image) → ids with the pads expanded to each image's merged patch
 * count → embeddings with the vision rows spliced in at the pads → M-RoPE ids over text and image grids.
 */
export async function chatDecoderPrompt(
  parts: ChatPromptParts,
  text: string,
  images: readonly RgbImage[],
  signal?: AbortSignal,
): Promise<DecoderPrompt> {
  const { tokenizer, model } = parts;
  const cfg = model.config;
  const inputs = images.map((image) => preprocessForQwen(image, parts.imageOptions));
  const grids = inputs.map(({ gridThw: [t, h, w] }) => ({ t, h, w }));
  const ids = tokenizer.encode(expandImagePads(text, grids, cfg.spatialMergeSize));
  const embeds = model.embed(ids);
  if (inputs.length > 0) {
    const padId = tokenizer.specialTokenId(SPECIAL_TOKENS.imagePad);
    if (padId !== cfg.imageTokenId)
      throw new RangeError(
        `the tokenizer's ${SPECIAL_TOKENS.imagePad} is ${padId} but the MLLM config's image_token_id is ${cfg.imageTokenId}`,
      );
    if (signal?.aborted) throw new CancelledError('chat');
    spliceImageRows(embeds, ids, cfg.imageTokenId, await parts.embedImages(inputs), cfg.hiddenSize);
  }
  const positions = mropePositionIds(ids, grids, {
    imageTokenId: cfg.imageTokenId,
    spatialMergeSize: cfg.spatialMergeSize,
  });
  return { ids, embeds, positions };
}

/** Overwrites the embedding row of every `imageTokenId` in `ids`, in order, with the next vision embedding row. */
export function spliceImageRows(
  embeds: Float32Array,
  ids: readonly number[],
  imageTokenId: number,
  rows: Float32Array,
  hidden: number,
): void {
  let next = 0;
  ids.forEach((id, i) => {
    if (id !== imageTokenId) return;
    if ((next + 1) * hidden > rows.length)
      throw new RangeError(`the prompt has more image tokens than the ${rows.length / hidden} vision embeddings`);
    embeds.set(rows.subarray(next * hidden, (next + 1) * hidden), i * hidden);
    next++;
  });
  if (next * hidden !== rows.length)
    throw new RangeError(`${rows.length / hidden} vision embeddings but ${next} image tokens in the prompt`);
}

/** `processor/preprocessor_config.json` over the stock Qwen2.5-VL values (§1.6); the file is optional. */
export function readImageOptions(processorDir: string): QwenImageOptions {
  const path = join(processorDir, 'preprocessor_config.json');
  if (!existsSync(path)) return QWEN_IMAGE_DEFAULTS;
  const json = readConfigFile(path, QwenConfigError, 'the image processor settings') as JsonObject;
  const num = (key: string, fallback: number) => (typeof json[key] === 'number' ? json[key] : fallback);
  const triple = (key: string, fallback: readonly [number, number, number]) =>
    Array.isArray(json[key]) && json[key].length === 3 && json[key].every((v) => typeof v === 'number')
      ? (json[key] as [number, number, number])
      : fallback;
  const d = QWEN_IMAGE_DEFAULTS;
  return {
    processor: d.processor,
    minPixels: num('min_pixels', d.minPixels),
    maxPixels: num('max_pixels', d.maxPixels),
    patchSize: num('patch_size', d.patchSize),
    temporalPatchSize: num('temporal_patch_size', d.temporalPatchSize),
    mergeSize: num('merge_size', d.mergeSize),
    mean: triple('image_mean', d.mean),
    std: triple('image_std', d.std),
  };
}
