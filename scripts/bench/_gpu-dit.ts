// The DiT workload of the GPU benchmark: configuration (real or reduced), analytic FLOPs, seeded inputs.
import type { DitConfig, DitItemInputs, DitModel } from '../../src-main/engine/models/dit.ts';

/** The released transformer/config.json (model-notes.md §1.2). */
export const REAL_DIT_CONFIG = {
  patch_size: 2,
  in_channels: 16,
  out_channels: null,
  hidden_size: 2520,
  num_layers: 32,
  num_refiner_layers: 2,
  num_attention_heads: 21,
  num_kv_heads: 7,
  multiple_of: 256,
  ffn_dim_multiplier: null,
  norm_eps: 1e-5,
  axes_dim_rope: [40, 40, 40],
  axes_lens: [1024, 1664, 1664],
  text_feat_dim: 2048,
  timestep_scale: 1000.0,
  _class_name: 'OmniGen2Transformer2DModel',
};

export interface GpuDitShape {
  /** Main layers (real: 32). */
  readonly layers: number;
  /** Query heads of 120 channels (real: 21 → width 2520); KV heads are a third. */
  readonly heads: number;
  /** Output and reference size in pixels (real: 1024 → 4096 image tokens). */
  readonly size: number;
  /** Text tokens (real: ~120). */
  readonly textTokens: number;
}

/** transformer/config.json for a shape: the released config (model-notes.md §1.2) at another depth/width. */
export function gpuDitConfig(s: GpuDitShape): object {
  if (s.heads % 3 !== 0) throw new RangeError(`--heads must be a multiple of 3 (GQA groups of 3), got ${s.heads}`);
  return {
    ...REAL_DIT_CONFIG,
    hidden_size: 120 * s.heads,
    num_layers: s.layers,
    num_attention_heads: s.heads,
    num_kv_heads: s.heads / 3,
  };
}

/**
 * FLOPs of one DiT forward with `refTokens` of one reference image: timestep MLP, the reference's embedding and
 * refiner (dit_ref), noise embedding and refiner, the main layers over text ‖ ref ‖ image, the final layer.
 * Linears 2·rows·in·out; attention 4·S²·D (q·kᵀ and p·v over all query heads).
 */
export function ditForwardFlops(cfg: DitConfig, textTokens: number, imageTokens: number, refTokens: number): number {
  const { hiddenSize: D, ffnDim: F, tembDim: Dt } = cfg;
  const KV = cfg.numKvHeads * cfg.headDim;
  const linear = (rows: number, inp: number, out: number) => 2 * rows * inp * out;
  const block = (S: number) =>
    2 * linear(S, D, D) + 2 * linear(S, D, KV) + 3 * linear(S, D, F) + linear(1, Dt, 4 * D) + 4 * S * S * D;
  const temb = linear(1, 256, Dt) + linear(1, Dt, Dt);
  const ref = refTokens === 0 ? 0 : linear(refTokens, cfg.patchDim, D) + cfg.numRefinerLayers * block(refTokens);
  const main =
    linear(imageTokens, cfg.patchDim, D) +
    cfg.numRefinerLayers * block(imageTokens) +
    cfg.numLayers * block(textTokens + refTokens + imageTokens) +
    linear(1, Dt, D) +
    linear(imageTokens, D, cfg.outPatchDim);
  return temb + ref + main;
}

function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

/** A forward's inputs at t = 0.5 with `refs` references of the output's size; the text context is embedded once. */
export async function gpuDitItem(dit: DitModel, s: GpuDitShape, refs: number): Promise<DitItemInputs> {
  const c = dit.config;
  const side = s.size / 8;
  const text = await dit.embedText(gaussian(s.textTokens * c.textFeatDim, 1), s.textTokens);
  const latent = () => ({ data: gaussian(c.inChannels * side * side, 2), dims: [c.inChannels, side, side] });
  return { latent: latent(), timestep: 0.5, text, refs: Array.from({ length: refs }, latent) };
}
