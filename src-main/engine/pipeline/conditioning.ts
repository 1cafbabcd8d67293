import { join } from 'node:path';
import { CancelledError } from '../cancellation.ts';
import { QwenTextModel, type QwenTextLoadOptions } from '../models/qwen-text.ts';
import { textPositionIds } from '../sampling/mrope.ts';
import { DEFAULT_NEGATIVE_PROMPT, generationPrompt, negativeGenerationPrompt } from '../text/prompts.ts';
import { loadTokenizer, type Tokenizer } from '../text/tokenizer.ts';

/** The text states one DiT branch is conditioned on (§2.5). Shared between cache hits: treat as read-only. */
export interface TextConditioning {
  /** The chat-templated string that was tokenized. */
  readonly text: string;
  readonly inputIds: readonly number[];
  /** `[length, hiddenSize]`: the MLLM's last hidden state (after the final norm, §2.1 step 4). */
  readonly hiddenStates: Float32Array;
  /** `[length]`, 1 = real token; batch 1 is never padded, so all ones (§2.1 step 5). */
  readonly mask: Uint8Array;
  readonly length: number;
  readonly hiddenSize: number;
}

export interface ConditionerOptions {
  /** Tokens kept per prompt (`max_sequence_length`; the official scripts pass 1024, §2.1 step 3). */
  readonly maxSequenceLength?: number;
  /** Prompts kept in the least-recently-used cache. */
  readonly cacheSize?: number;
}

const DEFAULTS = { maxSequenceLength: 1024, cacheSize: 16 } as const;

/**
 * Standard-pipeline text conditioning (model-notes.md §2.1): prompt → system + user chat template →
 * tokens (right-truncated) → Qwen2.5-VL text decoder → last hidden state. Results are cached per templated
 * string (LRU, bounded), so re-generating with the same prompt skips the MLLM, and positive and negative
 * prompts share entries.
 */
export class TextConditioner {
  private readonly cache = new Map<string, Promise<TextConditioning>>();
  private readonly options: Required<ConditionerOptions>;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly model: QwenTextModel,
    options: ConditionerOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    const { maxSequenceLength, cacheSize } = this.options;
    if (!Number.isInteger(maxSequenceLength) || maxSequenceLength < 1)
      throw new RangeError(`maxSequenceLength must be a positive integer, got ${maxSequenceLength}`);
    if (!Number.isInteger(cacheSize) || cacheSize < 1)
      throw new RangeError(`cacheSize must be a positive integer, got ${cacheSize}`);
  }

  /** Tokenizer from `<modelDir>/processor`, decoder from `<modelDir>/mllm`. */
  static async load(
    modelDir: string,
    options: ConditionerOptions & { model?: QwenTextLoadOptions } = {},
  ): Promise<TextConditioner> {
    const tokenizer = await loadTokenizer(join(modelDir, 'processor'));
    return new TextConditioner(tokenizer, await QwenTextModel.load(join(modelDir, 'mllm'), options.model), options);
  }

  /** The conditional branch's text states for `prompt`. */
  encodePrompt(prompt: string, signal?: AbortSignal): Promise<TextConditioning> {
    return this.encodeTemplated(generationPrompt(this.tokenizer, prompt), signal);
  }

  /** The unconditional text states (`negative_prompt`, "" when none is given, same template, §2.1). */
  encodeNegative(negative: string = DEFAULT_NEGATIVE_PROMPT, signal?: AbortSignal): Promise<TextConditioning> {
    return this.encodeTemplated(negativeGenerationPrompt(this.tokenizer, negative), signal);
  }

  /** Encodes an already templated string as is (no images in it). */
  encodeTemplated(text: string, signal?: AbortSignal): Promise<TextConditioning> {
    const cached = this.cache.get(text);
    if (cached) {
      this.cache.delete(text); // re-insert: Map order is the recency order
      this.cache.set(text, cached);
      return cached;
    }
    if (signal?.aborted) return Promise.reject(new CancelledError('prompt encoding'));
    const pending = this.run(text);
    this.cache.set(text, pending);
    pending.catch(() => {
      if (this.cache.get(text) === pending) this.cache.delete(text);
    });
    while (this.cache.size > this.options.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return pending;
  }

  async release(): Promise<void> {
    this.cache.clear();
    await this.model.release();
  }

  private async run(text: string): Promise<TextConditioning> {
    const inputIds = this.tokenizer.encode(text, { maxLength: this.options.maxSequenceLength });
    if (inputIds.length === 0) throw new RangeError('the templated prompt tokenized to nothing');
    const out = await this.model.forward({
      embeds: this.model.embed(inputIds),
      positions: textPositionIds(inputIds.length),
    });
    const length = inputIds.length;
    return {
      text,
      inputIds,
      hiddenStates: out.lastHidden,
      mask: new Uint8Array(length).fill(1),
      length,
      hiddenSize: this.model.config.hiddenSize,
    };
  }
}
