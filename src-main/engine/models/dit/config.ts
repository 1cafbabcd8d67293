import { ModelConfigError, configFail, requireJsonObject, requireNumber } from '../config-error.ts';

/** A transformer/config.json that cannot describe an OmniGen2 DiT, naming the offending key. */
export class DitConfigError extends ModelConfigError {
  override readonly name = 'DitConfigError';
}

/**
 * OmniGen2Transformer2DModel hyper-parameters (model-notes.md §1.2) plus the derived sizes the
 * graphs need. Real model: D 2520, 32 layers, 21/7 heads, head 120, FFN 10240, t-embed 1024.
 */
export interface DitConfig {
  readonly patchSize: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly hiddenSize: number; // D
  readonly numLayers: number;
  readonly numRefinerLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly normEps: number;
  readonly axesDimRope: readonly [number, number, number];
  readonly axesLens: readonly [number, number, number];
  readonly textFeatDim: number;
  readonly timestepScale: number;
  readonly headDim: number; // d_h = D / heads = Σ axesDimRope
  readonly kvGroups: number; // query heads per KV head
  readonly ffnDim: number; // F: 4·D (× ffn_dim_multiplier), rounded up to multiple_of
  readonly tembDim: number; // D_t = min(D, 1024)
  readonly patchDim: number; // p²·C_in, one token of a patchified latent
  readonly outPatchDim: number; // p²·C_out
  readonly ropePairs: number; // d_h / 2, columns of the cos/sin tables
}

/** Rows of `image_index_embedding`: the model supports at most this many reference images. */
export const MAX_REFERENCE_IMAGES = 5;
/** Width of the sinusoidal timestep features (§3.1). */
export const TIMESTEP_FEATURES = 256;

/**
 * Validates a parsed config.json. Every architecture key is required (save_pretrained writes them
 * all); `out_channels` and `ffn_dim_multiplier` may be null.
 */
export function parseDitConfig(json: unknown, source = 'transformer/config.json'): DitConfig {
  const raw = requireJsonObject(json, source, DitConfigError);
  const fail = configFail(source, DitConfigError);
  const num = (key: string, o: { int?: boolean; min?: number } = {}): number => requireNumber(raw[key], key, fail, o);
  const nullable = (key: string, o: { int?: boolean; min?: number }): number | null =>
    raw[key] === null ? null : num(key, o);
  const triple = (key: string): [number, number, number] => {
    const v = raw[key];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((d) => Number.isInteger(d) && d > 0))
      return fail(key, `must be three positive integers, got ${JSON.stringify(v)}`);
    return v as [number, number, number];
  };

  const patchSize = num('patch_size', { int: true, min: 1 });
  const inChannels = num('in_channels', { int: true, min: 1 });
  const outChannels = nullable('out_channels', { int: true, min: 1 }) ?? inChannels;
  const hiddenSize = num('hidden_size', { int: true, min: 1 });
  const numLayers = num('num_layers', { int: true, min: 1 });
  const numRefinerLayers = num('num_refiner_layers', { int: true, min: 0 });
  const numHeads = num('num_attention_heads', { int: true, min: 1 });
  const numKvHeads = num('num_kv_heads', { int: true, min: 1 });
  const multipleOf = num('multiple_of', { int: true, min: 1 });
  const ffnDimMultiplier = nullable('ffn_dim_multiplier', { min: 0 });
  const normEps = num('norm_eps', { min: 0 });
  const axesDimRope = triple('axes_dim_rope');
  const axesLens = triple('axes_lens');
  const textFeatDim = num('text_feat_dim', { int: true, min: 1 });
  const timestepScale = num('timestep_scale');

  if (hiddenSize % numHeads !== 0) fail('num_attention_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  if (numHeads % numKvHeads !== 0)
    fail('num_kv_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  const headDim = hiddenSize / numHeads;
  if (axesDimRope.some((d) => d % 2 !== 0))
    fail('axes_dim_rope', `entries must be even, got [${axesDimRope.join(', ')}]`);
  if (axesDimRope[0] + axesDimRope[1] + axesDimRope[2] !== headDim)
    fail(
      'axes_dim_rope',
      `must sum to the head size ${headDim} (hidden_size / num_attention_heads), got [${axesDimRope.join(', ')}]`,
    );

  const ffnInner = ffnDimMultiplier === null ? 4 * hiddenSize : Math.trunc(ffnDimMultiplier * 4 * hiddenSize);
  return {
    patchSize,
    inChannels,
    outChannels,
    hiddenSize,
    numLayers,
    numRefinerLayers,
    numHeads,
    numKvHeads,
    normEps,
    axesDimRope,
    axesLens,
    textFeatDim,
    timestepScale,
    headDim,
    kvGroups: numHeads / numKvHeads,
    ffnDim: multipleOf * Math.ceil(ffnInner / multipleOf),
    tembDim: Math.min(hiddenSize, 1024),
    patchDim: patchSize * patchSize * inChannels,
    outPatchDim: patchSize * patchSize * outChannels,
    ropePairs: headDim / 2,
  };
}
