import {
  Graph,
  Weights,
  type Checkpoint,
  type GraphBuildOptions,
  type OnnxModel,
  type Value,
} from '../../onnx/index.ts';
import {
  conv1x1,
  conv3x3,
  downsample,
  groupNorm,
  midBlock,
  resnetBlock,
  upsample,
  type VaeAttentionOptions,
} from './blocks.ts';
import { LOGVAR_RANGE, type VaeConfig } from './config.ts';

/**
 * The AutoencoderKL as two graphs (§5.2, §9.1), fp32, with dynamic batch and spatial axes so one session
 * serves every size (H, W multiples of `downscaleFactor`):
 *
 * | graph         | input                         | outputs                                          |
 * |---------------|-------------------------------|--------------------------------------------------|
 * | `vae_encoder` | image [B, C_in, H, W] in [-1,1] | latent_mean, latent_logvar [B, L, H/f, W/f] (clamped) |
 * | `vae_decoder` | latent [B, L, h, w]           | image [B, C_out, h·f, w·f] (raw decoder output)  |
 */
export type VaeGraphName = 'vae_encoder' | 'vae_decoder';

export interface VaeGraphOptions {
  /** Folder the sessions resolve weight locations against (contains the safetensors file). */
  root: string;
  attention: VaeAttentionOptions;
  /** How the graphs compute (onnx/precision.ts); default fp32. */
  precision?: GraphBuildOptions['precision'];
}

function start(name: VaeGraphName, ckpt: Checkpoint, o: VaeGraphOptions): { g: Graph; w: Weights } {
  const g = new Graph({ name, precision: o.precision });
  return { g, w: Weights.of(g, ckpt, { root: o.root }) };
}

/** GN → silu → conv_out, the tail of both halves. */
function outputHead(g: Graph, w: Weights, cfg: VaeConfig, x: Value, o: { channels: number; out: number }): Value {
  const h = g.scope('conv_norm_out', () => g.silu(groupNorm(g, w.scope('conv_norm_out'), cfg, x, o.channels)));
  return g.scope('conv_out', () => conv3x3(g, w.scope('conv_out'), h, o.channels, o.out));
}

/**
 * Encoder: conv_in → [layers_per_block ResBlocks + Downsample (not after the last block)] per block →
 * mid block → GN → silu → conv_out (→ 2L moments) → quant_conv if configured; mean, clamp(logvar) (§5.2).
 */
export function buildEncoderGraph(cfg: VaeConfig, ckpt: Checkpoint, o: VaeGraphOptions): OnnxModel {
  const { g, w } = start('vae_encoder', ckpt, o);
  const blocks = cfg.blockOutChannels;
  const L = cfg.latentChannels;
  const image = g.input('image', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const enc = w.scope('encoder');
  let h = g.scope('encoder.conv_in', () => conv3x3(g, enc.scope('conv_in'), image, cfg.inChannels, blocks[0]!));
  let channels = blocks[0]!;
  blocks.forEach((out, i) => {
    const p = `down_blocks.${i}`;
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      const inp = channels;
      h = g.scope(`encoder.${p}.resnets.${j}`, () =>
        resnetBlock(g, enc.scope(`${p}.resnets.${j}`), cfg, h, { inp, out }),
      );
      channels = out;
    }
    if (i < blocks.length - 1)
      h = g.scope(`encoder.${p}.downsamplers.0`, () => downsample(g, enc.scope(`${p}.downsamplers.0`), h, out));
  });
  h = g.scope('encoder.mid_block', () => midBlock(g, enc.scope('mid_block'), cfg, h, o.attention));
  let moments = g.scope('encoder', () => outputHead(g, enc, cfg, h, { channels, out: 2 * L }));
  if (cfg.useQuantConv) moments = g.scope('quant_conv', () => conv1x1(g, w.scope('quant_conv'), moments, 2 * L, 2 * L));
  const [mean, logvar] = g.split(moments, 2, 1);
  g.output(mean, 'latent_mean');
  g.output(g.clip(logvar, LOGVAR_RANGE.min, LOGVAR_RANGE.max), 'latent_logvar');
  return g.build();
}

/**
 * Decoder: post_quant_conv if configured → conv_in → mid block → [layers_per_block + 1 ResBlocks + Upsample
 * (not after the last block)] over the reversed channel list → GN → silu → conv_out (§5.2).
 */
export function buildDecoderGraph(cfg: VaeConfig, ckpt: Checkpoint, o: VaeGraphOptions): OnnxModel {
  const { g, w } = start('vae_decoder', ckpt, o);
  const reversed = [...cfg.blockOutChannels].reverse();
  const L = cfg.latentChannels;
  let z = g.input('latent', 'float32', ['batch', L, 'latent_height', 'latent_width']);
  if (cfg.usePostQuantConv) z = g.scope('post_quant_conv', () => conv1x1(g, w.scope('post_quant_conv'), z, L, L));
  const dec = w.scope('decoder');
  let channels = reversed[0]!;
  let h = g.scope('decoder.conv_in', () => conv3x3(g, dec.scope('conv_in'), z, L, channels));
  h = g.scope('decoder.mid_block', () => midBlock(g, dec.scope('mid_block'), cfg, h, o.attention));
  reversed.forEach((out, i) => {
    const p = `up_blocks.${i}`;
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      const inp = channels;
      h = g.scope(`decoder.${p}.resnets.${j}`, () =>
        resnetBlock(g, dec.scope(`${p}.resnets.${j}`), cfg, h, { inp, out }),
      );
      channels = out;
    }
    if (i < reversed.length - 1)
      h = g.scope(`decoder.${p}.upsamplers.0`, () => upsample(g, dec.scope(`${p}.upsamplers.0`), h, out));
  });
  g.output(
    g.scope('decoder', () => outputHead(g, dec, cfg, h, { channels, out: cfg.outChannels })),
    'image',
  );
  return g.build();
}
