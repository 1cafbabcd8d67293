import {
  ModelConfigError,
  configFail,
  isJsonObject,
  requireJsonObject,
  requireNumber,
  type JsonObject,
} from '../config-error.ts';

/** An mllm/config.json that cannot describe a Qwen2.5-VL text decoder, naming the offending key. */
export class QwenConfigError extends ModelConfigError {
  override readonly name = 'QwenConfigError';
}

/**
 * The Qwen2.5-VL text decoder's hyper-parameters (model-notes.md §1.5) plus the ids and sizes the
 * graphs and position ids need. 3B: D 2048, 36 layers, 16/2 heads of 128, FFN 11008, vocab 151936.
 */
export interface QwenTextConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number; // D
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number; // D / heads
  readonly kvGroups: number; // query heads per KV head (§9.3.15: head i ↔ KV head ⌊i/groups⌋)
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly mropeSection: readonly [number, number, number];
  readonly tieWordEmbeddings: boolean;
  readonly imageTokenId: number;
  readonly visionStartTokenId: number;
  readonly visionEndTokenId: number;
  /** `vision_config.spatial_merge_size`: image tokens per side are patch grid / this (§2.4). */
  readonly spatialMergeSize: number;
}

/**
 * Validates a parsed mllm/config.json in either layout transformers writes:
 * - 4.51 (the released checkpoint): text fields at top level, `rope_theta`, `rope_scaling.mrope_section`;
 * - ≥ 4.52: text fields under `text_config`, RoPE under `rope_parameters` (or `rope_scaling`).
 * Token ids may sit at either level; the text section wins.
 */
export function parseQwenTextConfig(json: unknown, source = 'mllm/config.json'): QwenTextConfig {
  const root = requireJsonObject(json, source, QwenConfigError);
  const text: JsonObject = isJsonObject(root.text_config) ? root.text_config : root;
  const where = text === root ? '' : 'text_config.';
  const fail = configFail(source, QwenConfigError);
  // Errors name the level the value came from; a field found at neither is reported under the text section.
  const num = (key: string, o: { int?: boolean; min?: number } = {}): number => {
    const atTop = text[key] === undefined && root[key] !== undefined;
    return requireNumber(atTop ? root[key] : text[key], atTop ? key : `${where}${key}`, fail, o);
  };

  const ropeKey = isJsonObject(text.rope_parameters) ? 'rope_parameters' : 'rope_scaling';
  const rope = isJsonObject(text[ropeKey]) ? text[ropeKey] : {};
  const section = rope.mrope_section;
  if (!Array.isArray(section) || section.length !== 3 || !section.every((s) => Number.isInteger(s) && s >= 0)) {
    fail(
      `${where}${ropeKey}.mrope_section`,
      `must be three non-negative integers (Qwen2.5-VL uses multimodal RoPE), got ${JSON.stringify(section)}`,
    );
  }
  const thetaRaw = text.rope_theta ?? rope.rope_theta;
  if (typeof thetaRaw !== 'number' || !(thetaRaw > 0))
    fail(`${where}rope_theta`, `must be a positive number, got ${JSON.stringify(thetaRaw)}`);

  const hiddenSize = num('hidden_size', { int: true, min: 1 });
  const numHeads = num('num_attention_heads', { int: true, min: 1 });
  const numKvHeads = num('num_key_value_heads', { int: true, min: 1 });
  if (hiddenSize % numHeads !== 0)
    fail(`${where}num_attention_heads`, `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  if (numHeads % numKvHeads !== 0)
    fail(`${where}num_key_value_heads`, `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  const headDim = hiddenSize / numHeads;
  const mropeSection = section as [number, number, number];
  if (2 * (mropeSection[0] + mropeSection[1] + mropeSection[2]) !== headDim) {
    fail(
      `${where}${ropeKey}.mrope_section`,
      `[${mropeSection.join(', ')}] must sum to half the head size ${headDim} (hidden_size / num_attention_heads)`,
    );
  }
  const tie = text.tie_word_embeddings ?? root.tie_word_embeddings ?? true;
  if (typeof tie !== 'boolean') fail('tie_word_embeddings', `must be true or false, got ${JSON.stringify(tie)}`);
  const vision = isJsonObject(root.vision_config) ? root.vision_config : {};
  const merge = vision.spatial_merge_size ?? 2;
  if (!Number.isInteger(merge) || (merge as number) < 1)
    fail('vision_config.spatial_merge_size', `must be a positive integer, got ${JSON.stringify(merge)}`);

  return {
    vocabSize: num('vocab_size', { int: true, min: 1 }),
    hiddenSize,
    intermediateSize: num('intermediate_size', { int: true, min: 1 }),
    numLayers: num('num_hidden_layers', { int: true, min: 1 }),
    numHeads,
    numKvHeads,
    headDim,
    kvGroups: numHeads / numKvHeads,
    rmsNormEps: num('rms_norm_eps', { min: 0 }),
    ropeTheta: thetaRaw as number,
    mropeSection,
    tieWordEmbeddings: tie as boolean,
    imageTokenId: num('image_token_id', { int: true, min: 0 }),
    visionStartTokenId: num('vision_start_token_id', { int: true, min: 0 }),
    visionEndTokenId: num('vision_end_token_id', { int: true, min: 0 }),
    spatialMergeSize: merge as number,
  };
}
