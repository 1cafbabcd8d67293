import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Checkpoint,
  OnnxSession,
  f32,
  i64,
  type Feeds,
  type GraphBuildOptions,
  type OnnxModel,
  type SessionOptions,
} from '../../onnx/index.ts';
import type { RopeTable, TokenGrid } from '../../sampling/omni-rope.ts';
import { timestepFeatures } from '../../sampling/timestep-features.ts';
import { weightsForPrecision } from '../../weights/precision-weights.ts';
import type { WeightCacheProgress } from '../../weights/weight-cache.ts';
import { readConfigFile } from '../config-error.ts';
import { DitConfigError, MAX_REFERENCE_IMAGES, TIMESTEP_FEATURES, parseDitConfig, type DitConfig } from './config.ts';
import { DIT_GRAPHS, type DitGraphName } from './graphs.ts';
import { patchify, unpatchify, type LatentShape } from './patchify.ts';
import { ditRopeTables, type DitRopeTables } from './rope-layout.ts';
import type { DitStepCache } from './step-cache.ts';

/** A host tensor: row-major fp32 data and its dims. */
export interface FloatTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** The t-invariant text half of a branch (caption embedding + context refiner); reuse it for every step. */
export interface TextContext {
  readonly length: number;
  readonly tokens: Float32Array; // [L, D]
}

export interface DitItemInputs {
  /** Noisy latent `[C, h, w]`. */
  readonly latent: FloatTensor;
  /** Flow time t ∈ [0, 1] (0 = noise, 1 = data). */
  readonly timestep: number;
  readonly text: TextContext;
  /** Reference latents `[C, h_j, w_j]`, at most 5. */
  readonly refs?: readonly FloatTensor[];
}

export interface DitBatchInputs {
  readonly latents: FloatTensor; // [B, C, h, w]
  readonly timestep: ArrayLike<number>; // [B]
  readonly textHiddenStates: FloatTensor; // [B, L, text_feat_dim]
  /** `[B, L]`, 1 = real token, right padding (the DiT takes the first Σmask tokens, §9.3.13). */
  readonly textMask: ArrayLike<number | bigint>;
  readonly refs?: readonly (readonly FloatTensor[])[]; // per batch item
}

export interface DitLoadOptions {
  readonly session?: SessionOptions;
  /**
   * How weights stored in another precision than the graphs compute in (the released bf16) reach it:
   * `cache` (default) converts them once into the weight cache and reuses that; `cast` leaves an
   * in-graph Cast that onnxruntime folds into a host copy at every session creation (tech-notes.md §1.4).
   */
  readonly convert?: 'cache' | 'cast';
  /** The folder for this model's converted weights (weights/cache-location.ts); default `<model>/.atelier-cache/`. */
  readonly weightCacheDir?: string;
  /** Progress of a first-time conversion (bytes written of the cache). */
  readonly onConvertProgress?: (p: WeightCacheProgress) => void;
  /** How the graphs compute (onnx/precision.ts): fp32 (default, CPU), fp16-mixed (GPU), int8/int4. */
  readonly precision?: GraphBuildOptions['precision'];
}

export interface DitForwardOptions {
  /** This guidance branch's TeaCache/TaylorSeer state (§6); without it the exact single-graph path runs. */
  readonly cache?: DitStepCache;
  /** Scheduler step index of this call (TeaCache needs it, §6.1). */
  readonly step?: number;
}

/** One forward call after its checks: the shapes, RoPE tables and temb every graph of the call shares. */
interface PreparedCall {
  readonly shape: LatentShape;
  readonly rope: DitRopeTables;
  readonly tembFeed: Feeds[string];
  /** Refines the references (dit_ref) and assembles the inputs of dit_main / dit_joint_in. */
  jointFeeds(): Promise<Feeds>;
}

const WEIGHTS_BASE_NAME = 'diffusion_pytorch_model';
/** Under int8/int4, the linears of every block (all but ~0.1 % of the weights); the patch projections stay float. */
export const DIT_QUANTIZED_WEIGHTS = (key: string): boolean =>
  /^(layers|noise_refiner|ref_image_refiner|context_refiner)\.\d+\..+\.weight$/.test(key);
/**
 * Graph sets that hold the main layers' weights. Only one set keeps sessions at a time, so switching
 * between exact and accelerated sampling never holds two prepacked copies of the 32 layers.
 */
const EXACT_STACK: readonly DitGraphName[] = ['dit_main'];
const SPLIT_STACK: readonly DitGraphName[] = ['dit_joint_in', 'dit_layers', 'dit_final'];
const STACKS = [EXACT_STACK, SPLIT_STACK];

/**
 * The OmniGen2 transformer on onnxruntime. `load` reads the config and builds all graphs (checking
 * every weight's key and shape against the config, so a damaged checkpoint fails here); sessions are
 * created on first use and kept. Batch items run as separate batch-1 calls. Calls must not overlap.
 */
export class DitModel {
  private readonly sessions = new Map<DitGraphName, Promise<OnnxSession>>();

  private constructor(
    readonly config: DitConfig,
    private readonly models: Readonly<Record<DitGraphName, OnnxModel>>,
    private readonly options: DitLoadOptions,
  ) {}

  /** `path` is a model folder (with `transformer/`) or the `transformer/` folder itself. */
  static async load(path: string, options: DitLoadOptions = {}): Promise<DitModel> {
    const root = resolve(path);
    const componentDir = existsSync(join(root, 'transformer', 'config.json')) ? join(root, 'transformer') : root;
    const configPath = join(componentDir, 'config.json');
    const config = parseDitConfig(readConfigFile(configPath, DitConfigError, 'the transformer config'), configPath);
    const source = Checkpoint.open(componentDir, WEIGHTS_BASE_NAME);
    const w = await weightsForPrecision(source, {
      modelRoot: root,
      cacheDir: options.weightCacheDir,
      component: 'transformer',
      precision: options.precision,
      quantize: DIT_QUANTIZED_WEIGHTS,
      convert: options.convert,
      onProgress: options.onConvertProgress,
    });
    const graphOptions = { root: w.root, precision: w.precision, quantized: w.quantized };
    const models = Object.fromEntries(
      Object.entries(DIT_GRAPHS).map(([name, build]) => [name, build(config, w.checkpoint, graphOptions)]),
    );
    return new DitModel(config, models as Record<DitGraphName, OnnxModel>, options);
  }

  /**
   * Creates the sessions of one path now instead of at first use (so a caller can report loading apart
   * from the first step): `exact` = dit_main, `accelerated` = the split main stack for TeaCache/TaylorSeer.
   */
  async prepare(path: 'exact' | 'accelerated' = 'exact'): Promise<void> {
    for (const name of ['dit_text', 'dit_temb', 'dit_ref', ...(path === 'exact' ? EXACT_STACK : SPLIT_STACK)] as const)
      await this.session(name);
  }

  /** Caption embedding + context refiner over `length` valid text tokens `[length, text_feat_dim]`. */
  async embedText(hidden: Float32Array, length: number): Promise<TextContext> {
    const F = this.config.textFeatDim;
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`DiT text length must be ≥ 1, got ${length}`);
    if (hidden.length !== length * F)
      throw new RangeError(`DiT text states: ${hidden.length} values do not fill [${length}, ${F}]`);
    const rope = ditRopeTables(this.config, length, [], { rows: 0, cols: 0 }).text;
    const out = await this.run('dit_text', {
      text_hidden_states: f32(hidden, [length, F]),
      ...ropeFeeds('rope', rope),
    });
    return { length, tokens: out.text_tokens! };
  }

  /**
   * One batch-1 forward call; returns the velocity `[C_out, h, w]`. With `options.cache` the main layers
   * run as `dit_joint_in` → (`dit_layers`, or skipped/extrapolated by the cache) → `dit_final`.
   */
  async forwardOne(item: DitItemInputs, options: DitForwardOptions = {}): Promise<Float32Array> {
    const call = await this.prepareCall(item);
    const output = options.cache
      ? await this.splitStack(call, options.cache, options.step)
      : (await this.run('dit_main', await call.jointFeeds())).output!;
    return unpatchify(output, { ...call.shape, channels: this.config.outChannels }, this.config.patchSize);
  }

  /** Checks the inputs, computes the RoPE tables and temb; the joint-sequence feeds (refs refined) on demand. */
  private async prepareCall(item: DitItemInputs): Promise<PreparedCall> {
    const cfg = this.config;
    const D = cfg.hiddenSize;
    const shape = this.latentShape('latent', item.latent);
    const refs = item.refs ?? [];
    if (refs.length > MAX_REFERENCE_IMAGES)
      throw new RangeError(`OmniGen2 takes at most ${MAX_REFERENCE_IMAGES} reference images, got ${refs.length}`);
    const refShapes = refs.map((r, j) => this.latentShape(`reference ${j}`, r));
    const grid = (s: LatentShape): TokenGrid => ({ rows: s.height / cfg.patchSize, cols: s.width / cfg.patchSize });
    const rope = ditRopeTables(cfg, item.text.length, refShapes.map(grid), grid(shape));
    const { temb } = await this.run('dit_temb', {
      timestep_features: f32(
        timestepFeatures(item.timestep, { channels: TIMESTEP_FEATURES, scale: cfg.timestepScale }),
        [1, TIMESTEP_FEATURES],
      ),
    });
    const tembFeed = f32(temb!, [1, cfg.tembDim]);
    const jointFeeds = async (): Promise<Feeds> => {
      const refTokens: Float32Array[] = [];
      for (const [j, ref] of refs.entries()) {
        const patches = patchify(ref.data, refShapes[j]!, cfg.patchSize);
        const out = await this.run('dit_ref', {
          ref_patches: f32(patches, [patches.length / cfg.patchDim, cfg.patchDim]),
          image_index: i64([j]),
          temb: tembFeed,
          ...ropeFeeds('rope', rope.refs[j]!),
        });
        refTokens.push(out.ref_tokens!);
      }
      const refData = concatFloat32(refTokens);
      return {
        text_tokens: f32(item.text.tokens, [item.text.length, D]),
        ref_tokens: f32(refData, [refData.length / D, D]),
        noise_patches: f32(patchify(item.latent.data, shape, cfg.patchSize), [rope.image.tokens, cfg.patchDim]),
        temb: tembFeed,
        ...ropeFeeds('rope', rope.joint),
      };
    };
    return { shape, rope, tembFeed, jointFeeds };
  }

  /** §6: the cache decides whether dit_layers runs; the final layer reads the image tokens it returns. */
  private async splitStack(call: PreparedCall, cache: DitStepCache, step: number | undefined): Promise<Float32Array> {
    const D = this.config.hiddenSize;
    const { rope, tembFeed } = call;
    const hidden = await cache.mainStack({
      step,
      imageValues: rope.image.tokens * D,
      joint: async () => {
        const out = await this.run('dit_joint_in', await call.jointFeeds());
        return { joint: out.joint!, modulated: out.modulated! };
      },
      layers: async (joint) =>
        (
          await this.run('dit_layers', {
            joint: f32(joint, [rope.joint.tokens, D]),
            temb: tembFeed,
            ...ropeFeeds('rope', rope.joint),
          })
        ).hidden!,
    });
    return (await this.run('dit_final', { hidden: f32(hidden, [rope.image.tokens, D]), temb: tembFeed })).output!;
  }

  /** The reference model's batched call, run item by item; returns the velocity `[B, C_out, h, w]`. */
  async forward(inputs: DitBatchInputs): Promise<FloatTensor> {
    const [B, C, h, w] = inputs.latents.dims;
    const [tb, L, F] = inputs.textHiddenStates.dims;
    if (inputs.latents.dims.length !== 4 || B === undefined || C === undefined || h === undefined || w === undefined)
      throw new RangeError(`latents must be [B, C, h, w], got [${inputs.latents.dims.join(', ')}]`);
    if (tb !== B || L === undefined || F !== this.config.textFeatDim)
      throw new RangeError(
        `textHiddenStates must be [${B}, L, ${this.config.textFeatDim}], got [${inputs.textHiddenStates.dims.join(', ')}]`,
      );
    if (inputs.timestep.length !== B || inputs.textMask.length !== B * L)
      throw new RangeError(`timestep must have ${B} entries and textMask ${B}×${L}`);
    const Cout = this.config.outChannels;
    const out = new Float32Array(B * Cout * h * w);
    for (let b = 0; b < B; b++) {
      const length = validTextLength(inputs.textMask, b, L);
      const text = await this.embedText(inputs.textHiddenStates.data.subarray(b * L * F, (b * L + length) * F), length);
      const latent = { data: inputs.latents.data.subarray(b * C * h * w, (b + 1) * C * h * w), dims: [C, h, w] };
      const v = await this.forwardOne({ latent, timestep: inputs.timestep[b]!, text, refs: inputs.refs?.[b] ?? [] });
      out.set(v, b * Cout * h * w);
    }
    return { data: out, dims: [B, Cout, h, w] };
  }

  async release(): Promise<void> {
    const sessions = await Promise.all(this.sessions.values());
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.release()));
  }

  private latentShape(what: string, t: FloatTensor): LatentShape {
    const [channels, height, width] = t.dims;
    const p = this.config.patchSize;
    if (
      t.dims.length !== 3 ||
      channels !== this.config.inChannels ||
      height === undefined ||
      width === undefined ||
      height % p !== 0 ||
      width % p !== 0 ||
      height === 0 ||
      width === 0
    ) {
      throw new RangeError(
        `${what} must be [${this.config.inChannels}, h, w] with h, w positive multiples of ${p}, got [${t.dims.join(', ')}]`,
      );
    }
    return { channels, height, width };
  }

  private async run(name: DitGraphName, feeds: Feeds): Promise<Record<string, Float32Array>> {
    const out = await (await this.session(name)).run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  }

  private async session(name: DitGraphName): Promise<OnnxSession> {
    let session = this.sessions.get(name);
    if (!session) {
      await this.releaseOtherStacks(name);
      session = OnnxSession.create(this.models[name], this.options.session);
      this.sessions.set(name, session);
      session.catch(() => this.sessions.delete(name));
    }
    return session;
  }

  private async releaseOtherStacks(name: DitGraphName): Promise<void> {
    const own = STACKS.find((set) => set.includes(name));
    if (!own) return;
    const others = STACKS.filter((set) => set !== own)
      .flat()
      .filter((n) => this.sessions.has(n));
    const pending = others.map((n) => this.sessions.get(n)!);
    for (const n of others) this.sessions.delete(n);
    await Promise.all(
      pending.map((p) =>
        p.then(
          (s) => s.release(),
          () => undefined,
        ),
      ),
    );
  }
}

function ropeFeeds(prefix: string, t: RopeTable): Feeds {
  return { [`${prefix}_cos`]: f32(t.cos, [t.tokens, t.pairs]), [`${prefix}_sin`]: f32(t.sin, [t.tokens, t.pairs]) };
}

function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Σ mask of row b, after checking the row is right-padded (ones, then zeros). */
function validTextLength(mask: ArrayLike<number | bigint>, b: number, L: number): number {
  let length = 0;
  for (let i = 0; i < L; i++) {
    const on = Number(mask[b * L + i]) !== 0;
    if (on && length !== i)
      throw new RangeError(`textMask row ${b} is not right-padded (token ${i} is valid after padding)`);
    if (on) length++;
  }
  return length;
}
