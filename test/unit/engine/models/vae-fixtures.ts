// Synthetic AutoencoderKL checkpoints for the VAE unit tests and scripts/bench/vae.ts. The key layout is written
// out independently of the graph code, from model-notes.md §1.4 and diffusers' module tree, so a graph that
// reads a wrong key or shape fails against it.
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseVaeConfig } from '../../../../src-main/engine/models/vae.ts';
import { writeSafetensors, type TensorToWrite } from '../../../../src-main/engine/weights/safetensors-writer.ts';

/** vae/config.json of FLUX.1-dev (§1.4). */
export const FLUX_VAE_CONFIG = {
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

/** A FLUX-layout config with other channel widths (and optionally other keys). */
export function vaeConfigJson(
  blockOutChannels: number[],
  normNumGroups: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const n = blockOutChannels.length;
  return {
    ...FLUX_VAE_CONFIG,
    block_out_channels: blockOutChannels,
    norm_num_groups: normNumGroups,
    down_block_types: Array(n).fill('DownEncoderBlock2D'),
    up_block_types: Array(n).fill('UpDecoderBlock2D'),
    ...extra,
  };
}

type Shapes = Map<string, number[]>;

function resnet(out: Shapes, prefix: string, inp: number, ch: number): void {
  out.set(`${prefix}.norm1.weight`, [inp]).set(`${prefix}.norm1.bias`, [inp]);
  out.set(`${prefix}.conv1.weight`, [ch, inp, 3, 3]).set(`${prefix}.conv1.bias`, [ch]);
  out.set(`${prefix}.norm2.weight`, [ch]).set(`${prefix}.norm2.bias`, [ch]);
  out.set(`${prefix}.conv2.weight`, [ch, ch, 3, 3]).set(`${prefix}.conv2.bias`, [ch]);
  if (inp !== ch) out.set(`${prefix}.conv_shortcut.weight`, [ch, inp, 1, 1]).set(`${prefix}.conv_shortcut.bias`, [ch]);
}

function mid(out: Shapes, prefix: string, ch: number, attention: boolean): void {
  resnet(out, `${prefix}.resnets.0`, ch, ch);
  if (attention) {
    out.set(`${prefix}.attentions.0.group_norm.weight`, [ch]).set(`${prefix}.attentions.0.group_norm.bias`, [ch]);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0'])
      out.set(`${prefix}.attentions.0.${p}.weight`, [ch, ch]).set(`${prefix}.attentions.0.${p}.bias`, [ch]);
  }
  resnet(out, `${prefix}.resnets.1`, ch, ch);
}

/** Every tensor of a diffusers AutoencoderKL with this config, split by half (quant convs count with their half). */
export function vaeTensorShapes(json: Record<string, unknown>): { encoder: Shapes; decoder: Shapes } {
  const cfg = parseVaeConfig(json);
  const b = cfg.blockOutChannels,
    L = cfg.latentChannels,
    last = b.at(-1)!;
  const enc: Shapes = new Map([
    ['encoder.conv_in.weight', [b[0]!, cfg.inChannels, 3, 3]],
    ['encoder.conv_in.bias', [b[0]!]],
  ]);
  b.forEach((ch, i) => {
    for (let j = 0; j < cfg.layersPerBlock; j++)
      resnet(enc, `encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? (b[i - 1] ?? b[0]!) : ch, ch);
    if (i < b.length - 1)
      enc
        .set(`encoder.down_blocks.${i}.downsamplers.0.conv.weight`, [ch, ch, 3, 3])
        .set(`encoder.down_blocks.${i}.downsamplers.0.conv.bias`, [ch]);
  });
  mid(enc, 'encoder.mid_block', last, cfg.midBlockAddAttention);
  enc.set('encoder.conv_norm_out.weight', [last]).set('encoder.conv_norm_out.bias', [last]);
  enc.set('encoder.conv_out.weight', [2 * L, last, 3, 3]).set('encoder.conv_out.bias', [2 * L]);
  if (cfg.useQuantConv) enc.set('quant_conv.weight', [2 * L, 2 * L, 1, 1]).set('quant_conv.bias', [2 * L]);

  const dec: Shapes = new Map();
  if (cfg.usePostQuantConv) dec.set('post_quant_conv.weight', [L, L, 1, 1]).set('post_quant_conv.bias', [L]);
  dec.set('decoder.conv_in.weight', [last, L, 3, 3]).set('decoder.conv_in.bias', [last]);
  mid(dec, 'decoder.mid_block', last, cfg.midBlockAddAttention);
  const r = [...b].reverse();
  r.forEach((ch, i) => {
    for (let j = 0; j <= cfg.layersPerBlock; j++)
      resnet(dec, `decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? (r[i - 1] ?? last) : ch, ch);
    if (i < r.length - 1)
      dec
        .set(`decoder.up_blocks.${i}.upsamplers.0.conv.weight`, [ch, ch, 3, 3])
        .set(`decoder.up_blocks.${i}.upsamplers.0.conv.bias`, [ch]);
  });
  dec.set('decoder.conv_norm_out.weight', [b[0]!]).set('decoder.conv_norm_out.bias', [b[0]!]);
  dec.set('decoder.conv_out.weight', [cfg.outChannels, b[0]!, 3, 3]).set('decoder.conv_out.bias', [cfg.outChannels]);
  return { encoder: enc, decoder: dec };
}

/** Deterministic uniform [0, 1) stream (mulberry32): fixtures only, not the engine's RNG. */
export function uniformStream(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Weights that keep activations O(1): conv/linear ~ U(±√(3/fan_in)), norm gains ≈ 1, biases small. */
function randomTensor(key: string, shape: number[], next: () => number): Float32Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const fanIn = shape.length > 1 ? n / shape[0]! : 1;
  const isNorm = /norm[^.]*\.weight$/.test(key) || key.includes('group_norm.weight');
  const amp = key.endsWith('.bias') ? 0.05 : isNorm ? 0.1 : Math.sqrt(3 / fanIn);
  return Float32Array.from({ length: n }, () => (isNorm ? 1 : 0) + amp * (2 * next() - 1));
}

/**
 * Writes `<dir>/config.json` and `<dir>/diffusion_pytorch_model.safetensors` with seeded random weights.
 * `edit` may change or drop (return null) a tensor, to build damaged checkpoints.
 */
export function writeSyntheticVae(
  dir: string,
  json: Record<string, unknown>,
  o: { seed?: number; edit?: (key: string, t: TensorToWrite) => TensorToWrite | null } = {},
): string {
  const { encoder, decoder } = vaeTensorShapes(json);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [key, shape] of [...encoder, ...decoder]) {
    // Seeded per key, so a tensor's values do not depend on which other tensors the config adds.
    const next = uniformStream(
      [...key].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619), (o.seed ?? 1) ^ 2166136261),
    );
    const t = { dtype: 'F32' as const, shape, data: randomTensor(key, shape, next) };
    const edited = o.edit ? o.edit(key, t) : t;
    if (edited) tensors[key] = edited;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  writeSafetensors(join(dir, 'diffusion_pytorch_model.safetensors'), tensors);
  return dir;
}

/**
 * Writes a checkpoint whose tensors are all zeros without writing them (a sparse file): enough to build
 * the graphs of a full-size config and check every key and shape, in no time and no disk space.
 */
export function writeSparseVae(dir: string, json: Record<string, unknown>): string {
  const { encoder, decoder } = vaeTensorShapes(json);
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, shape] of [...encoder, ...decoder]) {
    const bytes = shape.reduce((p, d) => p * d, 4);
    header[key] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  const fd = openSync(join(dir, 'diffusion_pytorch_model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
    writeSync(fd, len);
    writeSync(fd, text);
    ftruncateSync(fd, 8 + Buffer.byteLength(text) + offset);
  } finally {
    closeSync(fd);
  }
  return dir;
}
