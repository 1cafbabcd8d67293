import { MAX_REFERENCE_IMAGES, type DitConfig } from '../models/dit/config.ts';
import type { QwenTextConfig } from '../models/qwen-text/config.ts';
import type { QwenVisionConfig } from '../models/qwen-vision/config.ts';
import type { VaeConfig } from '../models/vae/config.ts';

/** Parameters of one component, computed from its config alone (the tensor tables of model-notes.md §1.3–1.5). */
export interface ParamCount {
  readonly total: number;
  /** Weights of linear layers: what weight-only quantisation (MatMulNBits) would shrink. */
  readonly matrix: number;
  /** Parameters of the repeated blocks, and of the largest one (what a layer-streaming mode holds at a time). */
  readonly blocks: number;
  readonly largestBlock: number;
}

const linear = (out: number, inp: number, bias: boolean) => ({
  total: out * inp + (bias ? out : 0),
  matrix: out * inp,
});

function sum(parts: readonly { total: number; matrix: number }[]): { total: number; matrix: number } {
  return parts.reduce((a, p) => ({ total: a.total + p.total, matrix: a.matrix + p.matrix }), { total: 0, matrix: 0 });
}

const vector = (n: number) => ({ total: n, matrix: 0 });

/** §1.3: 36 modulated blocks (noise/ref refiners + layers) and 2 plain context-refiner blocks in the real model. */
export function ditParams(cfg: DitConfig): ParamCount {
  const D = cfg.hiddenSize;
  const kv = cfg.numKvHeads * cfg.headDim;
  const attention = sum([
    linear(D, D, false),
    linear(kv, D, false),
    linear(kv, D, false),
    linear(D, D, false),
    vector(2 * cfg.headDim),
  ]);
  const ffn = sum([linear(cfg.ffnDim, D, false), linear(cfg.ffnDim, D, false), linear(D, cfg.ffnDim, false)]);
  // norm2, ffn_norm1, ffn_norm2 in both kinds; norm1.linear + norm1.norm in modulated blocks, norm1 in plain ones
  const plain = sum([attention, ffn, vector(4 * D)]);
  const modulated = sum([attention, ffn, linear(4 * D, cfg.tembDim, true), vector(4 * D)]);
  const top = sum([
    linear(D, cfg.patchDim, true),
    linear(D, cfg.patchDim, true), // x_embedder, ref_image_patch_embedder
    linear(cfg.tembDim, 256, true),
    linear(cfg.tembDim, cfg.tembDim, true), // timestep_embedder.linear_1/2
    vector(cfg.textFeatDim),
    linear(D, cfg.textFeatDim, true), // caption_embedder.0 (RMSNorm), .1
    vector(MAX_REFERENCE_IMAGES * D), // image_index_embedding
    linear(D, cfg.tembDim, true),
    linear(cfg.outPatchDim, D, true), // norm_out.linear_1/2
  ]);
  const modulatedCount = 2 * cfg.numRefinerLayers + cfg.numLayers;
  const blocks = modulatedCount * modulated.total + cfg.numRefinerLayers * plain.total;
  return {
    total: top.total + blocks,
    matrix: top.matrix + modulatedCount * modulated.matrix + cfg.numRefinerLayers * plain.matrix,
    blocks,
    largestBlock: modulated.total,
  };
}

/** diffusers ResnetBlock2D: GroupNorm, 3×3 conv, GroupNorm, 3×3 conv, 1×1 shortcut when channels change. */
function resnet(cin: number, cout: number): number {
  return (
    2 * cin + (cout * cin * 9 + cout) + 2 * cout + (cout * cout * 9 + cout) + (cin !== cout ? cout * cin + cout : 0)
  );
}

/** Mid block: resnet, single-head attention over C (GroupNorm + q/k/v/out linears), resnet (§5.2). */
function midBlock(cfg: VaeConfig, C: number): number {
  return 2 * resnet(C, C) + (cfg.midBlockAddAttention ? 2 * C + 4 * (C * C + C) : 0);
}

/** §1.4: FLUX's encoder 34,274,208 + decoder 49,545,475. Convolutions only, so `matrix` holds the attention linears. */
export function vaeParams(cfg: VaeConfig): { encoder: ParamCount; decoder: ParamCount } {
  const channels = cfg.blockOutChannels;
  const last = channels.at(-1)!;
  const attentionMatrix = cfg.midBlockAddAttention ? 4 * last * last : 0;
  const z = 2 * cfg.latentChannels;

  const encoderBlocks: number[] = [];
  let cin = channels[0]!;
  for (const [i, cout] of channels.entries()) {
    let block = 0;
    for (let r = 0; r < cfg.layersPerBlock; r++) block += resnet(r === 0 ? cin : cout, cout);
    if (i < channels.length - 1) block += cout * cout * 9 + cout; // downsampler conv
    encoderBlocks.push(block);
    cin = cout;
  }
  const encoderTop =
    channels[0]! * cfg.inChannels * 9 +
    channels[0]! +
    midBlock(cfg, last) +
    2 * last +
    (z * last * 9 + z) +
    (cfg.useQuantConv ? z * z + z : 0);

  const decoderBlocks: number[] = [];
  cin = last;
  for (const [i, cout] of [...channels].reverse().entries()) {
    let block = 0;
    for (let r = 0; r <= cfg.layersPerBlock; r++) block += resnet(r === 0 ? cin : cout, cout);
    if (i < channels.length - 1) block += cout * cout * 9 + cout; // upsampler conv
    decoderBlocks.push(block);
    cin = cout;
  }
  const L = cfg.latentChannels;
  const decoderTop =
    last * L * 9 +
    last +
    midBlock(cfg, last) +
    2 * channels[0]! +
    (cfg.outChannels * channels[0]! * 9 + cfg.outChannels) +
    (cfg.usePostQuantConv ? L * L + L : 0);

  const count = (top: number, blocks: number[]): ParamCount => {
    const inBlocks = blocks.reduce((a, b) => a + b, 0);
    return { total: top + inBlocks, matrix: attentionMatrix, blocks: inBlocks, largestBlock: Math.max(...blocks) };
  };
  return { encoder: count(encoderTop, encoderBlocks), decoder: count(decoderTop, decoderBlocks) };
}

/** §1.5: 3,085,938,688 for the 3B text model with tied embeddings; an untied lm_head adds vocab × hidden. */
export function qwenTextParams(cfg: QwenTextConfig): ParamCount {
  const D = cfg.hiddenSize;
  const kv = cfg.numKvHeads * cfg.headDim;
  const I = cfg.intermediateSize;
  const layer = sum([
    vector(2 * D), // input_layernorm, post_attention_layernorm
    linear(D, D, true),
    linear(kv, D, true),
    linear(kv, D, true),
    linear(D, D, false),
    linear(I, D, false),
    linear(I, D, false),
    linear(D, I, false),
  ]);
  const embedding = cfg.vocabSize * D;
  // The LM head is a linear (quantisable); tied, it is the embedding table itself.
  const head = cfg.tieWordEmbeddings
    ? { total: embedding, matrix: embedding }
    : { total: 2 * embedding, matrix: embedding };
  return {
    total: head.total + cfg.numLayers * layer.total + D,
    matrix: head.matrix + cfg.numLayers * layer.matrix,
    blocks: cfg.numLayers * layer.total,
    largestBlock: layer.total,
  };
}

/** §1.5: 668,684,288 for the 3B vision tower (Conv3d patch embed as a linear, 32 blocks, patch merger). */
export function qwenVisionParams(cfg: QwenVisionConfig): ParamCount {
  const D = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const block = sum([
    vector(2 * D),
    linear(3 * D, D, true),
    linear(D, D, true),
    linear(I, D, true),
    linear(I, D, true),
    linear(D, I, true),
  ]);
  const merger = sum([
    vector(D),
    linear(cfg.mergedDim, cfg.mergedDim, true),
    linear(cfg.outHiddenSize, cfg.mergedDim, true),
  ]);
  const patchEmbed = linear(D, cfg.patchDim, false);
  return {
    total: patchEmbed.total + cfg.depth * block.total + merger.total,
    matrix: patchEmbed.matrix + cfg.depth * block.matrix + merger.matrix,
    blocks: cfg.depth * block.total,
    largestBlock: block.total,
  };
}
