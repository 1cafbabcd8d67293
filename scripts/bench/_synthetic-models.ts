// Synthetic checkpoints for the precision measurements (issue 9) and the GPU benchmark: random weights of a
// configured size, written tensor by tensor in bounded chunks, in the real key layout of each component.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDitConfig } from '../../src-main/engine/models/dit.ts';
import { parseQwenTextConfig, type QwenTextConfig } from '../../src-main/engine/models/qwen-text.ts';
import { parseVaeConfig, type VaeConfig } from '../../src-main/engine/models/vae.ts';
import { float32ToFloat16 } from '../../src-main/engine/weights/dtype.ts';
import { ditTensorShapes } from './_dit-synthetic.ts';

export { MID_DIT_CONFIG } from './_dit-synthetic.ts';

/** How one tensor is filled: N(mean, std) (std 0 gives a constant). */
export interface Init {
  readonly mean: number;
  readonly std: number;
}
export type InitRule = (key: string, shape: readonly number[]) => Init;

/**
 * Weight scales like trained checkpoints: every matrix and conv kernel N(0, 0.02) (the usual initialisation
 * scale, which trained weights keep in order of magnitude), biases N(0, 0.02), norm gains N(1, 0.05).
 */
export const REALISTIC: InitRule = (key, shape) =>
  shape.length === 1 && /(norm|layernorm)[^.]*\.weight$|norm_[qk]\.weight$|caption_embedder\.0\.weight$/.test(key)
    ? { mean: 1, std: 0.05 }
    : { mean: 0, std: 0.02 };

/**
 * REALISTIC with SwiGLU gate/up projections 200× larger (std 4): products up to ~10⁵ at the extremes, beyond
 * fp16's 65504, as the outlier features of trained transformers reach (model-notes.md §9.3.2 names this
 * spot). Shows what happens where fp16 does overflow; not a claim about OmniGen2's own activations.
 */
export const FFN_OUTLIERS: InitRule = (key, shape) =>
  /(feed_forward\.linear_[13]|mlp\.(gate|up)_proj)\.weight$/.test(key) ? { mean: 0, std: 4 } : REALISTIC(key, shape);

/** Values drawn per init from a fixed pool, read with a random start and odd stride (a permutation): fast enough for 8 GB. */
const POOL = 1 << 22;
const CHUNK = 1 << 20;

function xorshift(seed: number): () => number {
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

function normalPool(init: Init, next: () => number): Float32Array {
  const pool = new Float32Array(POOL);
  for (let i = 0; i < POOL; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - next())),
      t = 2 * Math.PI * next();
    pool[i] = init.mean + init.std * r * Math.cos(t);
    pool[i + 1] = init.mean + init.std * r * Math.sin(t);
  }
  return pool;
}

/**
 * Writes `<path>` (safetensors, F32 or F16) holding `shapes`, filled per `rule`; memory stays at a few pools and
 * one chunk whatever the total size. Returns the bytes written.
 */
export function writeRandomSafetensors(
  path: string,
  shapes: ReadonlyMap<string, readonly number[]>,
  o: { rule: InitRule; dtype: 'F32' | 'F16'; seed: number },
): number {
  const width = o.dtype === 'F32' ? 4 : 2;
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape] of shapes) {
    const bytes = width * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: o.dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const next = xorshift(o.seed);
  const pools = new Map<string, Float32Array | Uint16Array>();
  const poolOf = (init: Init) => {
    const k = `${init.mean}|${init.std}`;
    let p = pools.get(k);
    if (!p) {
      const f = normalPool(init, next);
      p = o.dtype === 'F32' ? f : float32ToFloat16(f);
      pools.set(k, p);
    }
    return p;
  };
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, json);
    for (const [name, shape] of shapes) {
      const pool = poolOf(o.rule(name, shape));
      const n = shape.reduce((a, b) => a * b, 1);
      let at = Math.floor(next() * POOL);
      const stride = (2 * Math.floor(next() * (POOL / 2)) + 1) & (POOL - 1);
      const chunk = o.dtype === 'F32' ? new Float32Array(Math.min(n, CHUNK)) : new Uint16Array(Math.min(n, CHUNK));
      for (let done = 0; done < n; done += chunk.length) {
        const m = Math.min(chunk.length, n - done);
        for (let i = 0; i < m; i++) {
          chunk[i] = pool[at]!;
          at = (at + stride) & (POOL - 1);
        }
        writeSync(fd, new Uint8Array(chunk.buffer, 0, m * width));
      }
    }
  } finally {
    closeSync(fd);
  }
  return 8 + Buffer.byteLength(json) + offset;
}

/** The FLUX VAE's real widths (128/256/512/512, 32 groups): the whole VAE is "mid-size" (84 M parameters). */
export const MID_VAE_CONFIG = {
  in_channels: 3,
  out_channels: 3,
  down_block_types: Array(4).fill('DownEncoderBlock2D'),
  up_block_types: Array(4).fill('UpDecoderBlock2D'),
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  act_fn: 'silu',
  latent_channels: 16,
  norm_num_groups: 32,
  sample_size: 1024,
  scaling_factor: 0.3611,
  shift_factor: 0.1159,
  latents_mean: null,
  latents_std: null,
  force_upcast: true,
  use_quant_conv: false,
  use_post_quant_conv: false,
  mid_block_add_attention: true,
  _class_name: 'AutoencoderKL',
};

/** Mid-size Qwen2.5 text decoder: D 512, 6 layers, 8/2 heads of 64, MLP 1536, tied embeddings. */
export const MID_QWEN_CONFIG = {
  vocab_size: 2048,
  hidden_size: 512,
  intermediate_size: 1536,
  num_hidden_layers: 6,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  max_position_embeddings: 4096,
  rms_norm_eps: 1e-6,
  hidden_act: 'silu',
  rope_theta: 1000000.0,
  tie_word_embeddings: true,
  rope_scaling: { type: 'mrope', mrope_section: [8, 12, 12] },
  image_token_id: 2000,
  video_token_id: 2001,
  vision_start_token_id: 1998,
  vision_end_token_id: 1999,
  bos_token_id: 2002,
  eos_token_id: 2003,
  pad_token_id: 2004,
  architectures: ['Qwen2_5_VLForConditionalGeneration'],
  model_type: 'qwen2_5_vl',
  vision_config: {
    depth: 1,
    hidden_size: 32,
    intermediate_size: 64,
    num_heads: 2,
    in_chans: 3,
    in_channels: 3,
    out_hidden_size: 512,
    patch_size: 14,
    spatial_merge_size: 2,
    temporal_patch_size: 2,
    window_size: 112,
    fullatt_block_indexes: [0],
    tokens_per_second: 2,
    hidden_act: 'silu',
  },
};

export function vaeTensorShapes(cfg: VaeConfig): Map<string, number[]> {
  const t = new Map<string, number[]>();
  const conv = (p: string, out: number, inp: number, k: number) => {
    t.set(`${p}.weight`, [out, inp, k, k]);
    t.set(`${p}.bias`, [out]);
  };
  const norm = (p: string, c: number) => {
    t.set(`${p}.weight`, [c]);
    t.set(`${p}.bias`, [c]);
  };
  const resnet = (p: string, inp: number, out: number) => {
    norm(`${p}.norm1`, inp);
    conv(`${p}.conv1`, out, inp, 3);
    norm(`${p}.norm2`, out);
    conv(`${p}.conv2`, out, out, 3);
    if (inp !== out) conv(`${p}.conv_shortcut`, out, inp, 1);
  };
  const mid = (p: string, c: number) => {
    resnet(`${p}.resnets.0`, c, c);
    resnet(`${p}.resnets.1`, c, c);
    norm(`${p}.attentions.0.group_norm`, c);
    for (const k of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
      t.set(`${p}.attentions.0.${k}.weight`, [c, c]);
      t.set(`${p}.attentions.0.${k}.bias`, [c]);
    }
  };
  const b = cfg.blockOutChannels,
    L = cfg.latentChannels,
    top = b.at(-1)!;
  conv('encoder.conv_in', b[0]!, cfg.inChannels, 3);
  let c = b[0]!;
  b.forEach((out, i) => {
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      resnet(`encoder.down_blocks.${i}.resnets.${j}`, c, out);
      c = out;
    }
    if (i < b.length - 1) conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, out, out, 3);
  });
  mid('encoder.mid_block', top);
  norm('encoder.conv_norm_out', top);
  conv('encoder.conv_out', 2 * L, top, 3);
  conv('decoder.conv_in', top, L, 3);
  mid('decoder.mid_block', top);
  c = top;
  [...b].reverse().forEach((out, i) => {
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      resnet(`decoder.up_blocks.${i}.resnets.${j}`, c, out);
      c = out;
    }
    if (i < b.length - 1) conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, out, out, 3);
  });
  norm('decoder.conv_norm_out', b[0]!);
  conv('decoder.conv_out', cfg.outChannels, b[0]!, 3);
  return t;
}

export function qwenTextTensorShapes(cfg: QwenTextConfig): Map<string, number[]> {
  const { hiddenSize: D, intermediateSize: F, numHeads: H, numKvHeads: KV, headDim: d } = cfg;
  const t = new Map<string, number[]>([
    ['model.embed_tokens.weight', [cfg.vocabSize, D]],
    ['model.norm.weight', [D]],
  ]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    for (const [k, s] of [
      ['input_layernorm.weight', [D]],
      ['post_attention_layernorm.weight', [D]],
      ['self_attn.q_proj.weight', [H * d, D]],
      ['self_attn.q_proj.bias', [H * d]],
      ['self_attn.k_proj.weight', [KV * d, D]],
      ['self_attn.k_proj.bias', [KV * d]],
      ['self_attn.v_proj.weight', [KV * d, D]],
      ['self_attn.v_proj.bias', [KV * d]],
      ['self_attn.o_proj.weight', [D, H * d]],
      ['mlp.gate_proj.weight', [F, D]],
      ['mlp.up_proj.weight', [F, D]],
      ['mlp.down_proj.weight', [D, F]],
    ] as [string, number[]][])
      t.set(`${p}.${k}`, s);
  }
  return t;
}

export type Component = 'transformer' | 'vae' | 'mllm';

/**
 * A model folder `<dir>/<component>/` with config.json and random weights (`diffusion_pytorch_model.safetensors`,
 * or `model.safetensors` for the MLLM). Returns the component folder.
 */
export function writeSyntheticComponent(
  dir: string,
  component: Component,
  configJson: object,
  o: { rule?: InitRule; dtype?: 'F32' | 'F16'; seed?: number } = {},
): string {
  const target = join(dir, component);
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'config.json'), JSON.stringify(configJson));
  const shapes =
    component === 'transformer'
      ? ditTensorShapes(parseDitConfig(configJson))
      : component === 'vae'
        ? vaeTensorShapes(parseVaeConfig(configJson))
        : qwenTextTensorShapes(parseQwenTextConfig(configJson));
  const file = component === 'mllm' ? 'model.safetensors' : 'diffusion_pytorch_model.safetensors';
  writeRandomSafetensors(join(target, file), shapes, {
    rule: o.rule ?? REALISTIC,
    dtype: o.dtype ?? 'F32',
    seed: o.seed ?? 1,
  });
  return target;
}
