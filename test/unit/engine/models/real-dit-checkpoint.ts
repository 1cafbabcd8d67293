import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The released transformer/config.json as given in model-notes.md §1.2. */
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

/** Every tensor of the released DiT with its shape, transcribed from the tables of §1.3 (not from our code). */
export function realDitTensors(): Map<string, number[]> {
  const D = 2520,
    KV = 840,
    F = 10240,
    Dt = 1024,
    dh = 120;
  const t = new Map<string, number[]>([
    ['x_embedder.weight', [D, 64]],
    ['x_embedder.bias', [D]],
    ['ref_image_patch_embedder.weight', [D, 64]],
    ['ref_image_patch_embedder.bias', [D]],
    ['time_caption_embed.timestep_embedder.linear_1.weight', [Dt, 256]],
    ['time_caption_embed.timestep_embedder.linear_1.bias', [Dt]],
    ['time_caption_embed.timestep_embedder.linear_2.weight', [Dt, Dt]],
    ['time_caption_embed.timestep_embedder.linear_2.bias', [Dt]],
    ['time_caption_embed.caption_embedder.0.weight', [2048]],
    ['time_caption_embed.caption_embedder.1.weight', [D, 2048]],
    ['time_caption_embed.caption_embedder.1.bias', [D]],
    ['image_index_embedding', [5, D]],
    ['norm_out.linear_1.weight', [D, Dt]],
    ['norm_out.linear_1.bias', [D]],
    ['norm_out.linear_2.weight', [64, D]],
    ['norm_out.linear_2.bias', [64]],
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
  for (const i of [0, 1]) {
    block(`noise_refiner.${i}`, true);
    block(`ref_image_refiner.${i}`, true);
    block(`context_refiner.${i}`, false);
  }
  for (let i = 0; i < 32; i++) block(`layers.${i}`, true);
  return t;
}

/**
 * Writes `<dir>/transformer/diffusion_pytorch_model.safetensors` with a real-size bf16 header and a
 * sparse (all-zero, no disk blocks) data section: enough to build every graph, not to run one.
 */
export function writeSparseRealDit(dir: string): string {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of realDitTensors()) {
    const bytes = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'BF16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  mkdirSync(join(dir, 'transformer'), { recursive: true });
  const path = join(dir, 'transformer', 'diffusion_pytorch_model.safetensors');
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, json);
    ftruncateSync(fd, 8 + json.length + offset);
  } finally {
    closeSync(fd);
  }
  return path;
}
