import { CancelledError } from '../../cancellation.ts';
import { continuationPositionIds, type MropePositions } from '../../sampling/mrope.ts';
import type { QwenTextModel } from './text-model.ts';
import { TokenSampler, type SamplingOptions } from './token-sampler.ts';

/** A prompt ready for the decoder: its token ids, input embeddings (image rows spliced in) and M-RoPE ids. */
export interface DecoderPrompt {
  readonly ids: readonly number[];
  /** `[ids.length, D]` */
  readonly embeds: Float32Array;
  readonly positions: MropePositions;
}

export interface GenerateOptions {
  /** Upper bound on generated tokens, the stop token included. */
  readonly maxNewTokens: number;
  /** Ids that end the reply; the stop token is yielded, then generation ends. */
  readonly stopTokenIds: readonly number[];
  readonly sampling: SamplingOptions;
  /** Seed of the sampled draws (unused when greedy). */
  readonly seed?: number | bigint;
  /** Checked before every model call; aborting throws CancelledError between tokens. */
  readonly signal?: AbortSignal;
}

/**
 * Autoregressive decoding with a KV cache (§7.1 step 2): one prefill over the prompt, then one single-token
 * call per new token at sequence index i, M-RoPE position i + ropeDelta on all components (§2.3).
 * Yields token ids as they are chosen.
 */
export async function* generateTokens(
  model: QwenTextModel,
  prompt: DecoderPrompt,
  options: GenerateOptions,
): AsyncGenerator<number, void, undefined> {
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 1)
    throw new RangeError(`max new tokens must be a positive integer, got ${options.maxNewTokens}`);
  if (prompt.ids.length < 1 || prompt.positions.length !== prompt.ids.length)
    throw new RangeError(`the prompt has ${prompt.ids.length} ids but ${prompt.positions.length} positions`);
  const sampler = new TokenSampler(options.sampling, options.seed ?? 0);
  const stops = new Set(options.stopTokenIds);
  const seen = new Set(prompt.ids);
  const checkCancel = () => {
    if (options.signal?.aborted) throw new CancelledError('text generation');
  };

  checkCancel();
  let step = await model.forward({ embeds: prompt.embeds, positions: prompt.positions });
  const V = model.config.vocabSize;
  for (let n = 0; ; n++) {
    const token = sampler.pick(step.logits.subarray(step.logits.length - V), seen); // the last token's logits
    yield token;
    if (stops.has(token) || n + 1 >= options.maxNewTokens) return;
    seen.add(token);
    checkCancel();
    step = await model.forward({
      embeds: model.embed([token]),
      positions: continuationPositionIds(step.cache.length, 1, prompt.positions.ropeDelta),
      cache: step.cache,
    });
  }
}
