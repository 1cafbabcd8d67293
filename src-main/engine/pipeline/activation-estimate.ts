import type { DitConfig } from '../models/dit.ts';
import type { QwenTextConfig } from '../models/qwen-text.ts';
import type { QwenVisionConfig } from '../models/qwen-vision.ts';
import type { VaeConfig } from '../models/vae.ts';

/**
 * Peak bytes of live intermediate tensors in one forward call of each graph, counted from the op order the
 * graph builders emit: the tensors one step needs at once (a block's input kept for its residual, the normed
 * copy, the op's inputs and output). Allocator caches and per-EP scratch are not counted (the WebGPU EP's
 * buffer cache, for one, was measured far above this on the VAE: see models/vae/vae-model.ts).
 */
export interface AttentionScores {
  /**
   * `materialised`: the kernel holds softmax(q·kᵀ) for all heads of one query piece (an EP without a
   * flash-style kernel; the upper bound). `fused`: flash-style, no score matrix (the CPU EP's fp32 kernel).
   */
  readonly kernel: 'materialised' | 'fused';
  /** Query pieces the graph splits attention into (1 = none). */
  readonly queryChunks: number;
}

/** Scores stay fp32 whatever the activation type: softmax statistics are kept in fp32. */
const SCORE_BYTES = 4;

function scores(heads: number, queries: number, keys: number, a: AttentionScores): number {
  return a.kernel === 'fused' ? 0 : heads * Math.ceil(queries / a.queryChunks) * keys * SCORE_BYTES;
}

/**
 * One DiT forward (§3.7) over the joint sequence S = text + Σ reference tokens + output tokens (a 1024² image is
 * 4096 tokens). Guidance branches are separate batch-1 calls, so one branch is live at a time. The main layers
 * dominate (the refiners see sub-sequences):
 * - attention: x, u, q, k and v repeated to all heads, output (6·S·D) + the scores;
 * - SwiGLU: x, z, then gate, up and silu(gate) (2·S·D + 3·S·F).
 */
export function ditActivationBytes(
  cfg: DitConfig,
  o: { sequence: number; actBytes: number; attention: AttentionScores },
): number {
  const S = o.sequence,
    D = cfg.hiddenSize,
    F = cfg.ffnDim;
  const attention = 6 * S * D * o.actBytes + scores(cfg.numHeads, S, S, o.attention);
  const ffn = (2 * S * D + 3 * S * F) * o.actBytes;
  const rope = 2 * S * cfg.ropePairs * 4;
  return Math.max(attention, ffn) + rope;
}

/**
 * The Qwen2.5 text decoder over L tokens (§2.3): per layer x, normed x, q, k/v repeated to all heads, output,
 * the scores and the causal bias; the MLP holds gate, up and silu(gate). The present K/V of every layer are
 * graph outputs, so they are live until the call returns.
 */
export function textActivationBytes(
  cfg: QwenTextConfig,
  o: { tokens: number; actBytes: number; attention: AttentionScores },
): number {
  const L = o.tokens,
    D = cfg.hiddenSize,
    I = cfg.intermediateSize;
  const attention = 5 * L * D * o.actBytes + scores(cfg.numHeads, L, L, o.attention) + L * L * 4;
  const mlp = (2 * L * D + 3 * L * I) * o.actBytes;
  const presentKv = 2 * cfg.numLayers * L * cfg.numKvHeads * cfg.headDim * 4;
  return Math.max(attention, mlp) + presentKv + cfg.vocabSize * 4;
}

/** Patches the Qwen2.5-VL processor makes of a W×H image: sides rounded to 28 px (§2.4), 2×2 patches per token. */
export function visionPatches(cfg: QwenVisionConfig, width: number, height: number): number {
  const unit = cfg.patchSize * cfg.spatialMergeSize;
  const side = (v: number) => Math.max(1, Math.round(v / unit)) * cfg.spatialMergeSize;
  return side(width) * side(height);
}

/**
 * The vision tower over N patches (§2.4): the full-attention blocks see all N patches at once (windowed blocks
 * see 64-patch windows), so they set the score size; the MLP holds gate, up and silu(gate).
 */
export function visionActivationBytes(
  cfg: QwenVisionConfig,
  o: { patches: number; actBytes: number; attention: AttentionScores },
): number {
  const N = o.patches,
    D = cfg.hiddenSize,
    I = cfg.intermediateSize;
  const attention = 6 * N * D * o.actBytes + scores(cfg.numHeads, N, N, o.attention);
  const mlp = (2 * N * D + 3 * N * I) * o.actBytes;
  return Math.max(attention, mlp);
}

/** A ResnetBlock2D at `area` pixels: its input (kept for the residual) and three tensors of the wider side. */
const resnetChannels = (cin: number, cout: number) => cin + 3 * Math.max(cin, cout);

/** Mid block at `area` latent pixels: resnets, then one-head attention (x, normed, q, k, v, out) + scores. */
function midBlockBytes(cfg: VaeConfig, area: number, actBytes: number, attention: AttentionScores): number {
  const C = cfg.blockOutChannels.at(-1)!;
  const att = cfg.midBlockAddAttention ? 6 * C * area * actBytes + scores(1, area, area, attention) : 0;
  return Math.max(resnetChannels(C, C) * area * actBytes, att);
}

/**
 * VAE encoder on a W×H image (§5.2): the full-resolution block with 128 channels dominates (conv_in output,
 * resnets, the padded copy of the downsampler); the mid block adds its attention at 1/8 resolution.
 */
export function vaeEncoderActivationBytes(
  cfg: VaeConfig,
  o: { width: number; height: number; actBytes: number; attention: AttentionScores },
): number {
  const channels = cfg.blockOutChannels;
  let area = o.width * o.height;
  let peak = (cfg.inChannels + channels[0]!) * area;
  let cin = channels[0]!;
  for (const [i, cout] of channels.entries()) {
    for (let r = 0; r < cfg.layersPerBlock; r++)
      peak = Math.max(peak, resnetChannels(r === 0 ? cin : cout, cout) * area);
    if (i < channels.length - 1) {
      peak = Math.max(peak, 2.25 * cout * area); // input, zero-padded copy, strided output
      area /= 4;
    }
    cin = cout;
  }
  return Math.max(peak * o.actBytes, midBlockBytes(cfg, area, o.actBytes, o.attention));
}

/**
 * VAE decoder from an h×w latent (§5.9): 512 channels at low resolution, then each upsampler makes a 4× larger
 * copy; at full resolution the last block's first resnet (256 → 128 in FLUX) holds the most.
 */
export function vaeDecoderActivationBytes(
  cfg: VaeConfig,
  o: { latentWidth: number; latentHeight: number; actBytes: number; attention: AttentionScores },
): number {
  const channels = [...cfg.blockOutChannels].reverse();
  let area = o.latentWidth * o.latentHeight;
  const mid = midBlockBytes(cfg, area, o.actBytes, o.attention);
  let peak = (cfg.latentChannels + channels[0]!) * area;
  let cin = channels[0]!;
  for (const [i, cout] of channels.entries()) {
    for (let r = 0; r <= cfg.layersPerBlock; r++)
      peak = Math.max(peak, resnetChannels(r === 0 ? cin : cout, cout) * area);
    if (i < channels.length - 1) {
      peak = Math.max(peak, 9 * cout * area); // input, nearest ×2 copy, conv output (both 4× the area)
      area *= 4;
    }
    cin = cout;
  }
  peak = Math.max(peak, (3 * channels.at(-1)! + cfg.outChannels) * area); // norm_out, silu, conv_out
  return Math.max(peak * o.actBytes, mid);
}

/**
 * The tiled decode (models/vae/tiling.ts) with `tile`-pixel latent tiles: one tile's activations at a time, plus the
 * blended image and its weight sum at full size and one tile's decoded image.
 */
export function vaeTiledDecoderActivationBytes(
  cfg: VaeConfig,
  o: { latentWidth: number; latentHeight: number; actBytes: number; attention: AttentionScores; tile: number },
): number {
  const tw = Math.min(o.tile, o.latentWidth),
    th = Math.min(o.tile, o.latentHeight),
    f2 = cfg.downscaleFactor ** 2;
  const tile = vaeDecoderActivationBytes(cfg, { ...o, latentWidth: tw, latentHeight: th });
  return tile + ((cfg.outChannels + 1) * o.latentWidth * o.latentHeight + cfg.outChannels * tw * th) * f2 * 4;
}

/**
 * The tiled encode with `tile`-pixel latent tiles (`tile`·f image pixels): one tile's activations, its image crop,
 * and the blended moments (mean, log-variance) and weight sum at latent size.
 */
export function vaeTiledEncoderActivationBytes(
  cfg: VaeConfig,
  o: { width: number; height: number; actBytes: number; attention: AttentionScores; tile: number },
): number {
  const f = cfg.downscaleFactor,
    L = cfg.latentChannels;
  const tw = Math.min(o.tile * f, o.width),
    th = Math.min(o.tile * f, o.height);
  const tile = vaeEncoderActivationBytes(cfg, { ...o, width: tw, height: th });
  return tile + (cfg.inChannels * tw * th + ((2 * L + 1) * o.width * o.height + 2 * L * tw * th) / (f * f)) * 4;
}
