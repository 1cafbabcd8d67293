import { ModelConfigError, configFail, isJsonObject, requireJsonObject } from '../config-error.ts';

/** An mllm/config.json whose `vision_config` cannot describe a Qwen2.5-VL vision tower, naming the offending key. */
export class QwenVisionConfigError extends ModelConfigError {
  override readonly name = 'QwenVisionConfigError';
}

/**
 * Qwen2.5-VL vision tower hyper-parameters (model-notes.md §1.5) plus the sizes the graph and the
 * host-side layout need. Released 3B model: D 1280, depth 32, 16 heads of 80, MLP 3420, out 2048,
 * patches 14 px × 2 frames, 2×2 merge, 112 px windows, full attention in blocks 7, 15, 23, 31.
 */
export interface QwenVisionConfig {
  readonly depth: number;
  readonly hiddenSize: number; // D
  readonly intermediateSize: number;
  readonly numHeads: number;
  readonly inChannels: number;
  readonly outHiddenSize: number; // width of the merged tokens = the text model's hidden size
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly spatialMergeSize: number; // m: m×m patches become one output token
  readonly windowSize: number; // in pixels
  readonly fullAttentionBlocks: ReadonlySet<number>;
  readonly ropeTheta: number;
  readonly normEps: number;
  readonly headDim: number; // D / heads
  readonly rotaryPairs: number; // headDim / 2: columns of the cos/sin tables
  readonly patchDim: number; // C·T·P·P, one row of pixel_values (1176)
  readonly mergeUnit: number; // m², patches per output token
  readonly mergedDim: number; // D·m², the merger's input width
  readonly windowUnits: number; // merged units per window side: window_size // m // P (§2.4 step 3)
}

/** Qwen2RMSNorm of the vision tower is built with eps 1e-6 in the reference, whatever the config says (§2.4). */
const VISION_NORM_EPS = 1e-6;
/** transformers 4.51 hard-codes the vision rotary base; newer releases write it as rope_parameters.rope_theta. */
const DEFAULT_ROPE_THETA = 10000;

/**
 * Reads `vision_config` from a parsed mllm/config.json, in either the transformers-4.51 layout of the
 * released file or the layout newer transformers write (`rope_parameters`, `in_channels`). Sizes are
 * required; keys the released config always carries with the stock value default to it.
 */
export function parseQwenVisionConfig(json: unknown, source = 'mllm/config.json'): QwenVisionConfig {
  const raw = requireJsonObject(json, source, QwenVisionConfigError).vision_config;
  const failAt = configFail(source, QwenVisionConfigError);
  if (!isJsonObject(raw)) return failAt('vision_config', 'is missing or not an object (is this a Qwen2.5-VL config?)');
  const fail = (key: string, why: string): never => failAt(`vision_config.${key}`, why);
  const int = (key: string, o: { min?: number; fallback?: number } = {}): number => {
    const v = raw[key] ?? o.fallback;
    if (v === undefined) return fail(key, 'is missing');
    if (typeof v !== 'number' || !Number.isInteger(v)) return fail(key, `must be an integer, got ${JSON.stringify(v)}`);
    if (v < (o.min ?? 1)) fail(key, `must be ≥ ${o.min ?? 1}, got ${v}`);
    return v;
  };

  const depth = int('depth');
  const hiddenSize = int('hidden_size');
  const intermediateSize = int('intermediate_size');
  const numHeads = int('num_heads');
  const outHiddenSize = int('out_hidden_size');
  const patchSize = int('patch_size', { fallback: 14 });
  const temporalPatchSize = int('temporal_patch_size', { fallback: 2 });
  const spatialMergeSize = int('spatial_merge_size', { fallback: 2 });
  const windowSize = int('window_size', { fallback: 112 });
  const inChannels = int(raw.in_channels !== undefined ? 'in_channels' : 'in_chans', { fallback: 3 });
  if (raw.in_chans !== undefined && raw.in_channels !== undefined && raw.in_chans !== raw.in_channels) {
    fail(
      'in_channels',
      `(${JSON.stringify(raw.in_channels)}) disagrees with "in_chans" (${JSON.stringify(raw.in_chans)})`,
    );
  }

  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') fail('hidden_act', `must be "silu" (the Qwen2.5-VL vision MLP), got ${JSON.stringify(act)}`);

  const full = raw.fullatt_block_indexes;
  if (!Array.isArray(full) || !full.every((i) => Number.isInteger(i) && i >= 0 && i < depth)) {
    fail('fullatt_block_indexes', `must be a list of block indexes in [0, ${depth}), got ${JSON.stringify(full)}`);
  }

  const ropeParameters = raw.rope_parameters;
  const theta =
    isJsonObject(ropeParameters) && ropeParameters.rope_theta !== undefined
      ? ropeParameters.rope_theta
      : (raw.rope_theta ?? DEFAULT_ROPE_THETA);
  if (typeof theta !== 'number' || !(theta > 0))
    fail('rope_parameters.rope_theta', `must be a positive number, got ${JSON.stringify(theta)}`);

  if (hiddenSize % numHeads !== 0) fail('num_heads', `(${numHeads}) must divide hidden_size (${hiddenSize})`);
  const headDim = hiddenSize / numHeads;
  // The rotary half of each head is split evenly between row and column frequencies (§2.4 step 2).
  if (headDim % 4 !== 0) fail('num_heads', `gives a head size of ${headDim}; the 2-D rotary needs a multiple of 4`);
  const windowUnits = Math.floor(windowSize / spatialMergeSize / patchSize);
  if (windowUnits < 1)
    fail(
      'window_size',
      `(${windowSize}) must span at least one ${spatialMergeSize}×${spatialMergeSize} merge unit of ${patchSize}-px patches`,
    );

  const mergeUnit = spatialMergeSize * spatialMergeSize;
  return {
    depth,
    hiddenSize,
    intermediateSize,
    numHeads,
    inChannels,
    outHiddenSize,
    patchSize,
    temporalPatchSize,
    spatialMergeSize,
    windowSize,
    fullAttentionBlocks: new Set(full as number[]),
    ropeTheta: theta as number,
    normEps: VISION_NORM_EPS,
    headDim,
    rotaryPairs: headDim / 2,
    patchDim: inChannels * temporalPatchSize * patchSize * patchSize,
    mergeUnit,
    mergedDim: hiddenSize * mergeUnit,
    windowUnits,
  };
}
