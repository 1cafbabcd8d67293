import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { VaeAttentionOptions } from '../models/vae/blocks.ts';
import type { VaeConfig } from '../models/vae/config.ts';
import { DEFAULT_VAE_TILES, type VaeTileOptions } from '../models/vae/tiling.ts';
import { VaeModel, defaultVaeAttention, type VaeLoadOptions } from '../models/vae/vae-model.ts';
import type { SessionOptions } from '../onnx/index.ts';
import { vaeDecoderActivationBytes, vaeEncoderActivationBytes, type AttentionScores } from './activation-estimate.ts';
import type { LatentCodec } from './generate.ts';
import { USABLE_FRACTION, type VaeTiling } from './memory-estimate.ts';

/**
 * GPU providers: onnxruntime-node cannot read a GPU's memory, so a VAE call plans on the issue-13 target for the
 * VAE decode (3 GB). The FLUX VAE's untiled 1024² decode is estimated above it, and measured at ≈25.5 GiB on WebGPU.
 */
export const GPU_VAE_BUDGET_BYTES = 3e9;

export interface VaeCodecOptions extends VaeLoadOptions {
  /** Default `auto`, or the `ATELIER_VAE_TILING` environment variable (auto | always | never) when set. */
  readonly tiling?: VaeTiling;
  /** What one VAE call's activations may use; default `defaultVaeBudget(session.executionProviders)`. */
  readonly budgetBytes?: number;
  /** Default DEFAULT_VAE_TILES (diffusers': 64 latent pixels, 16 blended). */
  readonly tiles?: VaeTileOptions;
}

/** CPU: this machine's RAM (os.totalmem, as `atelier estimate` uses) × USABLE_FRACTION less what the process holds; GPU: GPU_VAE_BUDGET_BYTES. */
export function defaultVaeBudget(executionProviders: SessionOptions['executionProviders'] = ['cpu']): number {
  const first = executionProviders[0];
  const name = typeof first === 'string' ? first : first?.name;
  if (name !== undefined && name !== 'cpu') return GPU_VAE_BUDGET_BYTES;
  return totalmem() * USABLE_FRACTION - process.memoryUsage().rss;
}

/**
 * The tiles one VAE call runs in, or undefined for one untiled call: `auto` tiles when the untiled call's estimated
 * activations (fp32, activation-estimate.ts) exceed the budget and the image is larger than one tile.
 */
export function chooseVaeTiles(
  cfg: VaeConfig,
  call: { readonly kind: 'encode' | 'decode'; readonly width: number; readonly height: number },
  o: {
    readonly tiling: VaeTiling;
    readonly budgetBytes: number;
    readonly attention: VaeAttentionOptions;
    readonly tiles: VaeTileOptions;
  },
): VaeTileOptions | undefined {
  if (o.tiling === 'never') return undefined;
  const f = cfg.downscaleFactor;
  if (o.tiling === 'always') return o.tiles;
  if (call.width <= o.tiles.tile * f && call.height <= o.tiles.tile * f) return undefined;
  const attention: AttentionScores = {
    kernel: o.attention.kernel === 'fused' ? 'fused' : 'materialised',
    queryChunks: o.attention.queryChunks,
  };
  const bytes =
    call.kind === 'decode'
      ? vaeDecoderActivationBytes(cfg, {
          latentWidth: call.width / f,
          latentHeight: call.height / f,
          actBytes: 4,
          attention,
        })
      : vaeEncoderActivationBytes(cfg, { width: call.width, height: call.height, actBytes: 4, attention });
  return bytes > o.budgetBytes ? o.tiles : undefined;
}

function tilingFromEnv(): VaeTiling | undefined {
  const v = process.env.ATELIER_VAE_TILING;
  if (v === undefined || v === '') return undefined;
  if (v === 'auto' || v === 'always' || v === 'never') return v;
  throw new RangeError(`ATELIER_VAE_TILING must be auto, always or never, got ${JSON.stringify(v)}`);
}

/**
 * The model folder's VAE as the pipeline uses it: encode to the DiT's scaled latent (§5.2), decode from it (§5.9),
 * each call tiled when `chooseVaeTiles` says so. `release` frees the sessions; the next call creates them again.
 */
export async function loadVaeCodec(
  modelDir: string,
  options: VaeCodecOptions = {},
): Promise<LatentCodec & { release(): Promise<void> }> {
  const root = resolve(modelDir);
  const componentDir = existsSync(join(root, 'vae', 'config.json')) ? join(root, 'vae') : root;
  const vae = await VaeModel.load(componentDir, root, options);
  const providers = options.session?.executionProviders;
  const choice = {
    tiling: options.tiling ?? tilingFromEnv() ?? 'auto',
    attention: options.attention ?? defaultVaeAttention(providers),
    tiles: options.tiles ?? DEFAULT_VAE_TILES,
  };
  const tilesFor = (kind: 'encode' | 'decode', width: number, height: number) =>
    chooseVaeTiles(
      vae.config,
      { kind, width, height },
      { ...choice, budgetBytes: options.budgetBytes ?? defaultVaeBudget(providers) },
    );
  return {
    latentChannels: vae.config.latentChannels,
    async encode(image, size) {
      const tiles = tilesFor('encode', size.width, size.height);
      const { mean } = await vae.encode(
        { data: image, dims: [1, vae.config.inChannels, size.height, size.width] },
        tiles,
      );
      const latent = vae.latentFromMean(mean);
      return { data: latent.data, dims: latent.dims.slice(1) };
    },
    async decode(latent) {
      const f = vae.config.downscaleFactor;
      const tiles = tilesFor('decode', latent.dims[2]! * f, latent.dims[1]! * f);
      const out = await vae.decodeScaled({ data: latent.data, dims: [1, ...latent.dims] }, tiles);
      const [, channels, height, width] = out.dims as [number, number, number, number];
      return { channels, height, width, data: out.data };
    },
    release: () => vae.release(),
  };
}
