import { join, resolve } from 'node:path';
import {
  Checkpoint,
  OnnxSession,
  f32,
  type Feeds,
  type GraphBuildOptions,
  type OnnxModel,
  type SessionOptions,
} from '../../onnx/index.ts';
import { readConfigFile } from '../config-error.ts';
import type { VaeAttentionOptions } from './blocks.ts';
import { VaeConfigError, parseVaeConfig, type VaeConfig } from './config.ts';
import { buildDecoderGraph, buildEncoderGraph, type VaeGraphName } from './graphs.ts';
import { runTiled, type VaeTileOptions } from './tiling.ts';

/** A host tensor: row-major fp32 data and its dims (the same shape as the DiT's FloatTensor). */
export interface VaeTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** The posterior of an encoded image (§5.2); the engine uses the mean, the reference samples. */
export interface VaePosterior {
  readonly mean: VaeTensor;
  /** Clamped to [−30, 20]. */
  readonly logvar: VaeTensor;
}

export interface VaeLoadOptions {
  readonly session?: SessionOptions;
  /** Mid-block attention kernel and query split; default `defaultVaeAttention(session.executionProviders)`. */
  readonly attention?: VaeAttentionOptions;
  /**
   * How the graphs compute (onnx/precision.ts); default fp32. The VAE is small, so weights are cast in-graph
   * rather than cached; fp16 risks are measured in test/conformance/precision.test.ts.
   */
  readonly precision?: GraphBuildOptions['precision'];
}

/**
 * The attention variant that held the least memory per EP, measured on a 1024² decode (16 384 tokens):
 * CPU runs the fused kernel as flash attention (tiny config: 0.40 GiB peak RSS vs 2.2 GiB explicit
 * unchunked); the WebGPU EP's fused kernel held 55 GiB of GPU memory at the FLUX size vs 26 GiB explicit
 * (H100). Queries go in 4 pieces either way, capping a materialised score matrix at (S/4)×S (256 MiB at 1024²).
 */
export function defaultVaeAttention(
  executionProviders: SessionOptions['executionProviders'] = ['cpu'],
): VaeAttentionOptions {
  const first = executionProviders[0];
  const name = typeof first === 'string' ? first : first?.name;
  return { kernel: name === 'webgpu' ? 'explicit' : 'fused', queryChunks: 4 };
}

const WEIGHTS_BASE_NAME = 'diffusion_pytorch_model';

/**
 * The AutoencoderKL on onnxruntime. `load` reads the config and builds both graphs (checking every weight's
 * key and shape against the config, so a damaged checkpoint fails there); each session is created on first use.
 */
export class VaeModel {
  private readonly sessions = new Map<VaeGraphName, Promise<OnnxSession>>();

  private constructor(
    readonly config: VaeConfig,
    private readonly models: Readonly<Record<VaeGraphName, OnnxModel>>,
    private readonly sessionOptions: SessionOptions,
  ) {}

  /**
   * `componentDir` holds config.json and diffusion_pytorch_model.safetensors; `modelRoot` is the folder the
   * sessions resolve weight locations against (the whole model folder, so all graphs of a run share it).
   */
  static async load(
    componentDir: string,
    modelRoot: string = componentDir,
    options: VaeLoadOptions = {},
  ): Promise<VaeModel> {
    const configPath = join(resolve(componentDir), 'config.json');
    const config = parseVaeConfig(readConfigFile(configPath, VaeConfigError, 'the VAE config'), configPath);
    const ckpt = Checkpoint.open(componentDir, WEIGHTS_BASE_NAME);
    // A quant conv the config switches off would be silently skipped: refuse the mismatch instead.
    for (const [key, flag, used] of [
      ['quant_conv', 'use_quant_conv', config.useQuantConv],
      ['post_quant_conv', 'use_post_quant_conv', config.usePostQuantConv],
    ] as const) {
      if (!used && ckpt.has(`${key}.weight`))
        throw new VaeConfigError(
          flag,
          configPath,
          `${configPath}: "${flag}" is false but ${ckpt.path} holds "${key}.weight"; the config and the weights disagree`,
        );
    }
    const graphOptions = {
      root: modelRoot,
      attention: options.attention ?? defaultVaeAttention(options.session?.executionProviders),
      precision: options.precision,
    };
    const models = {
      vae_encoder: buildEncoderGraph(config, ckpt, graphOptions),
      vae_decoder: buildDecoderGraph(config, ckpt, graphOptions),
    };
    return new VaeModel(config, models, options.session ?? {});
  }

  /**
   * image `[B, C_in, H, W]` in [−1, 1], H and W multiples of `downscaleFactor` → posterior `[B, L, H/f, W/f]`.
   * With `tiles`, in overlapping tiles of `tile·f` pixels whose moments are blended (tiling.ts).
   */
  async encode(image: VaeTensor, tiles?: VaeTileOptions): Promise<VaePosterior> {
    const [B, H, W] = this.checkDims('image', image, this.config.inChannels, this.config.downscaleFactor);
    if (tiles) {
      const f = this.config.downscaleFactor;
      const [mean, logvar] = await runTiled(
        image,
        { tile: tiles.tile * f, overlap: tiles.overlap * f, align: f, up: 1, down: f },
        async (t) => {
          const p = await this.encode(t);
          return [p.mean, p.logvar];
        },
      );
      return { mean: mean!, logvar: logvar! };
    }
    const out = await this.run('vae_encoder', { image: f32(image.data, image.dims) });
    const f = this.config.downscaleFactor;
    const dims = [B, this.config.latentChannels, H / f, W / f];
    return { mean: { data: out.latent_mean!, dims }, logvar: { data: out.latent_logvar!, dims } };
  }

  /**
   * Raw latent `[B, L, h, w]` (no scaling or shift) → image `[B, C_out, h·f, w·f]`, ≈ [−1, 1]. With `tiles`, in
   * overlapping latent tiles whose images are blended linearly across the overlaps (tiling.ts).
   */
  async decode(latent: VaeTensor, tiles?: VaeTileOptions): Promise<VaeTensor> {
    const [B, h, w] = this.checkDims('latent', latent, this.config.latentChannels, 1);
    if (tiles) {
      const [image] = await runTiled(latent, { ...tiles, up: this.config.downscaleFactor, down: 1 }, async (t) => [
        await this.decode(t),
      ]);
      return image!;
    }
    const out = await this.run('vae_decoder', { latent: f32(latent.data, latent.dims) });
    const f = this.config.downscaleFactor;
    return { data: out.image!, dims: [B, this.config.outChannels, h * f, w * f] };
  }

  /** The DiT's latent for a reference image (§5.2 with the mean): (μ − shift)·scale, in fp32 steps as torch does. */
  latentFromMean(mean: VaeTensor): VaeTensor {
    const shift = Math.fround(this.config.shiftFactor),
      scale = Math.fround(this.config.scalingFactor);
    return { data: mean.data.map((m) => Math.fround(m - shift) * scale), dims: mean.dims };
  }

  /** Decodes the sampler's final latent (§5.9): decode(x / scale + shift). */
  async decodeScaled(x: VaeTensor, tiles?: VaeTileOptions): Promise<VaeTensor> {
    const shift = Math.fround(this.config.shiftFactor),
      scale = Math.fround(this.config.scalingFactor);
    return this.decode({ data: x.data.map((v) => Math.fround(v / scale) + shift), dims: x.dims }, tiles);
  }

  /** Creates both sessions now rather than on first use (onnxruntime's weight loading and optimisation). */
  async prepare(): Promise<void> {
    await Promise.all((['vae_encoder', 'vae_decoder'] as const).map((name) => this.session(name)));
  }

  async release(): Promise<void> {
    const sessions = await Promise.all(this.sessions.values());
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.release()));
  }

  /** Requires `[B, channels, H, W]` with positive H, W divisible by `multiple` and matching data; returns [B, H, W]. */
  private checkDims(what: string, t: VaeTensor, channels: number, multiple: number): [number, number, number] {
    const [B, C, H, W] = t.dims;
    const ok =
      t.dims.length === 4 &&
      C === channels &&
      [B, H, W].every((d) => Number.isInteger(d) && d! > 0) &&
      H! % multiple === 0 &&
      W! % multiple === 0;
    if (!ok)
      throw new RangeError(
        `VAE ${what} must be [B, ${channels}, H, W] with H, W positive multiples of ${multiple}, got [${t.dims.join(', ')}]`,
      );
    if (t.data.length !== B! * C! * H! * W!)
      throw new RangeError(`VAE ${what}: ${t.data.length} values do not fill [${t.dims.join(', ')}]`);
    return [B!, H!, W!];
  }

  private session(name: VaeGraphName): Promise<OnnxSession> {
    let session = this.sessions.get(name);
    if (!session) {
      session = OnnxSession.create(this.models[name], this.sessionOptions);
      this.sessions.set(name, session);
      session.catch(() => this.sessions.delete(name));
    }
    return session;
  }

  private async run(name: VaeGraphName, feeds: Feeds): Promise<Record<string, Float32Array>> {
    const out = await (await this.session(name)).run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  }
}
