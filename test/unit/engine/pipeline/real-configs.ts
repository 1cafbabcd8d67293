import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The released model's configs as model-notes.md tabulates them (§1.2 DiT, §1.4 FLUX VAE, §1.5
// Qwen2.5-VL-3B, in the transformers-4.51 layout of the released mllm/config.json). No weights exist for them here.

export const REAL_DIT_CONFIG = {
  _class_name: 'OmniGen2Transformer2DModel',
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
};

export const REAL_VAE_CONFIG = {
  _class_name: 'AutoencoderKL',
  act_fn: 'silu',
  block_out_channels: [128, 256, 512, 512],
  down_block_types: Array(4).fill('DownEncoderBlock2D'),
  up_block_types: Array(4).fill('UpDecoderBlock2D'),
  in_channels: 3,
  out_channels: 3,
  latent_channels: 16,
  layers_per_block: 2,
  norm_num_groups: 32,
  mid_block_add_attention: true,
  sample_size: 1024,
  scaling_factor: 0.3611,
  shift_factor: 0.1159,
  use_quant_conv: false,
  use_post_quant_conv: false,
  force_upcast: true,
  latents_mean: null,
  latents_std: null,
};

export const REAL_MLLM_CONFIG = {
  architectures: ['Qwen2_5_VLForConditionalGeneration'],
  model_type: 'qwen2_5_vl',
  vocab_size: 151936,
  hidden_size: 2048,
  intermediate_size: 11008,
  num_hidden_layers: 36,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1_000_000,
  rope_scaling: { type: 'mrope', mrope_section: [16, 24, 24] },
  tie_word_embeddings: true,
  max_position_embeddings: 128000,
  hidden_act: 'silu',
  bos_token_id: 151643,
  eos_token_id: 151645,
  image_token_id: 151655,
  video_token_id: 151656,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  vision_config: {
    depth: 32,
    hidden_size: 1280,
    intermediate_size: 3420,
    num_heads: 16,
    in_chans: 3,
    out_hidden_size: 2048,
    patch_size: 14,
    spatial_merge_size: 2,
    temporal_patch_size: 2,
    window_size: 112,
    fullatt_block_indexes: [7, 15, 23, 31],
    tokens_per_second: 2,
    hidden_act: 'silu',
  },
};

/** A model folder holding only the three config.json files. */
export function writeRealConfigs(dir: string): void {
  for (const [sub, cfg] of [
    ['transformer', REAL_DIT_CONFIG],
    ['vae', REAL_VAE_CONFIG],
    ['mllm', REAL_MLLM_CONFIG],
  ] as const) {
    mkdirSync(join(dir, sub), { recursive: true });
    writeFileSync(join(dir, sub, 'config.json'), JSON.stringify(cfg, null, 1));
  }
}
