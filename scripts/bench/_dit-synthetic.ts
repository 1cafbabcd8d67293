// Synthetic DiT checkpoints and the analytic FLOP count for the `dit` benchmark.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseDitConfig, type DitConfig } from '../../src-main/engine/models/dit.ts';

/** Mid-size: D 640, 8 layers, 10/5 heads of 64 (axes 16+24+24), FFN 2560, one refiner layer. */
export const MID_DIT_CONFIG = {
  patch_size: 2,
  in_channels: 16,
  out_channels: null,
  hidden_size: 640,
  num_layers: 8,
  num_refiner_layers: 1,
  num_attention_heads: 10,
  num_kv_heads: 5,
  multiple_of: 256,
  ffn_dim_multiplier: null,
  norm_eps: 1e-5,
  axes_dim_rope: [16, 24, 24],
  axes_lens: [1024, 1664, 1664],
  text_feat_dim: 256,
  timestep_scale: 1000.0,
  _class_name: 'OmniGen2Transformer2DModel',
};

/** Every tensor of an OmniGen2 DiT with this config (key → shape), as in model-notes.md §1.3. */
export function ditTensorShapes(cfg: DitConfig): Map<string, number[]> {
  const { hiddenSize: D, ffnDim: F, tembDim: Dt, headDim: dh } = cfg;
  const KV = cfg.numKvHeads * dh;
  const t = new Map<string, number[]>([
    ['x_embedder.weight', [D, cfg.patchDim]],
    ['x_embedder.bias', [D]],
    ['ref_image_patch_embedder.weight', [D, cfg.patchDim]],
    ['ref_image_patch_embedder.bias', [D]],
    ['time_caption_embed.timestep_embedder.linear_1.weight', [Dt, 256]],
    ['time_caption_embed.timestep_embedder.linear_1.bias', [Dt]],
    ['time_caption_embed.timestep_embedder.linear_2.weight', [Dt, Dt]],
    ['time_caption_embed.timestep_embedder.linear_2.bias', [Dt]],
    ['time_caption_embed.caption_embedder.0.weight', [cfg.textFeatDim]],
    ['time_caption_embed.caption_embedder.1.weight', [D, cfg.textFeatDim]],
    ['time_caption_embed.caption_embedder.1.bias', [D]],
    ['image_index_embedding', [5, D]],
    ['norm_out.linear_1.weight', [D, Dt]],
    ['norm_out.linear_1.bias', [D]],
    ['norm_out.linear_2.weight', [cfg.outPatchDim, D]],
    ['norm_out.linear_2.bias', [cfg.outPatchDim]],
  ]);
  const block = (p: string, modulated: boolean) => {
    for (const [k, s] of [
      ['attn.to_q.weight', [D, D]],
      ['attn.to_k.weight', [KV, D]],
      ['attn.to_v.weight', [KV, D]],
      ['attn.to_out.0.weight', [D, D]],
      ['attn.norm_q.weight', [dh]],
      ['attn.norm_k.weight', [dh]],
      ['feed_forward.linear_1.weight', [F, D]],
      ['feed_forward.linear_3.weight', [F, D]],
      ['feed_forward.linear_2.weight', [D, F]],
      ['norm2.weight', [D]],
      ['ffn_norm1.weight', [D]],
      ['ffn_norm2.weight', [D]],
      ...(modulated
        ? [
            ['norm1.linear.weight', [4 * D, Dt]],
            ['norm1.linear.bias', [4 * D]],
            ['norm1.norm.weight', [D]],
          ]
        : [['norm1.weight', [D]]]),
    ] as [string, number[]][])
      t.set(`${p}.${k}`, s);
  };
  for (let i = 0; i < cfg.numRefinerLayers; i++) {
    block(`noise_refiner.${i}`, true);
    block(`ref_image_refiner.${i}`, true);
    block(`context_refiner.${i}`, false);
  }
  for (let i = 0; i < cfg.numLayers; i++) block(`layers.${i}`, true);
  return t;
}

/** Deterministic uniform numbers in [0, 1) (xorshift32). */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/**
 * Writes `<dir>/transformer/{config.json, diffusion_pytorch_model.safetensors}` with random fp32 weights,
 * tensor by tensor (memory stays at one tensor). Matrices are uniform with unit-variance-preserving
 * scale √(3/fan_in); norm gains are 1, biases 0, so activations stay of order 1 through every layer.
 */
export function writeSyntheticDit(dir: string, configJson: object, seed = 1): string {
  const cfg = parseDitConfig(configJson);
  const target = join(dir, 'transformer');
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'config.json'), JSON.stringify(configJson));
  const shapes = [...ditTensorShapes(cfg)];
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const next = uniform(seed);
  const fd = openSync(join(target, 'diffusion_pytorch_model.safetensors'), 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, json);
    for (const [name, shape] of shapes) {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (shape.length === 1 && name.endsWith('.weight'))
        data.fill(1); // every 1-D weight is a norm gain
      else if (shape.length === 2) {
        const scale = Math.sqrt(3 / shape[1]!);
        for (let i = 0; i < data.length; i++) data[i] = (2 * next() - 1) * scale;
      }
      writeSync(fd, new Uint8Array(data.buffer));
    }
  } finally {
    closeSync(fd);
  }
  return dir;
}

/** FLOPs of one forwardOne call without references (dit_temb + dit_main; dit_text runs once a branch). */
export function ditForwardFlops(
  cfg: DitConfig,
  textTokens: number,
  imageTokens: number,
): { matmul: number; attention: number } {
  const { hiddenSize: D, ffnDim: F, tembDim: Dt } = cfg;
  const KV = cfg.numKvHeads * cfg.headDim;
  const linear = (rows: number, inp: number, out: number) => 2 * rows * inp * out;
  // §3.3–3.5 per modulated block over S tokens: q, k, v, o, the three SwiGLU matrices, the modulation (one row)
  const block = (S: number) => linear(S, D, D) * 2 + linear(S, D, KV) * 2 + linear(S, D, F) * 3 + linear(1, Dt, 4 * D);
  // softmax(q·kᵀ)·v: two [S, S] products per head over d_h, i.e. 2 · 2·S²·D in all (K/V repeated to all heads)
  const attention = (S: number) => 4 * S * S * D;
  const S = textTokens + imageTokens;
  const matmul =
    linear(1, 256, Dt) +
    linear(1, Dt, Dt) + // timestep embedder
    linear(imageTokens, cfg.patchDim, D) +
    cfg.numRefinerLayers * block(imageTokens) +
    cfg.numLayers * block(S) +
    linear(1, Dt, D) +
    linear(imageTokens, D, cfg.outPatchDim);
  return { matmul, attention: cfg.numRefinerLayers * attention(imageTokens) + cfg.numLayers * attention(S) };
}
