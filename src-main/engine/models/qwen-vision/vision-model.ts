import { join, resolve } from 'node:path';
import {
  Checkpoint,
  OnnxSession,
  f32,
  i64,
  type Feeds,
  type OnnxModel,
  type SessionOptions,
} from '../../onnx/index.ts';
import { readConfigFile } from '../config-error.ts';
import { QwenVisionConfigError, parseQwenVisionConfig, type QwenVisionConfig } from './config.ts';
import { buildQwenVisionGraph } from './graph.ts';
import { visionRotaryTable, visionWindowLayout, windowBatch, type PatchGrid } from './layout.ts';

/** image_grid_thw of one image (or video): frames, patch rows, patch columns. */
export type GridThw = readonly [t: number, h: number, w: number];

/** What the Qwen2-VL preprocessing hands over for one image (`preprocessForQwen` returns this shape). */
export interface VisionInput {
  readonly pixelValues: Float32Array;
  readonly gridThw: GridThw;
}

export interface QwenVisionLoadOptions {
  readonly session?: SessionOptions;
}

/** Weights file stem of mllm/ (`model.safetensors`, or `model.safetensors.index.json` when sharded). */
const WEIGHTS_BASE_NAME = 'model';
/** Where the tower lives in the checkpoint: transformers 4.51 saves `visual.*`, ≥ 4.52 `model.visual.*` (§1.5). */
const TOWER_PREFIXES = ['visual', 'model.visual'] as const;

/**
 * The Qwen2.5-VL vision tower on onnxruntime (model-notes.md §2.4). `load` reads the config and
 * builds the graph, checking every weight's key and shape (a damaged checkpoint fails there); the session
 * is created on first use and kept. Each frame of each image runs as one call with its own windows and
 * rotary table (frames never attend to each other in the reference), and the rows come back in the
 * processor's order, ready to replace the `<|image_pad|>` embeddings.
 */
export class QwenVisionModel {
  private session: Promise<OnnxSession> | null = null;

  private constructor(
    readonly config: QwenVisionConfig,
    private readonly model: OnnxModel,
    private readonly options: QwenVisionLoadOptions,
  ) {}

  /**
   * @param mllmDir the `mllm/` folder (config.json + model weights)
   * @param modelRoot folder the session resolves weight files against; must contain `mllmDir` (default: `mllmDir`)
   */
  static async load(
    mllmDir: string,
    modelRoot: string = mllmDir,
    options: QwenVisionLoadOptions = {},
  ): Promise<QwenVisionModel> {
    const dir = resolve(mllmDir);
    const configPath = join(dir, 'config.json');
    const config = parseQwenVisionConfig(
      readConfigFile(configPath, QwenVisionConfigError, 'the MLLM config'),
      configPath,
    );
    const ckpt = Checkpoint.open(dir, WEIGHTS_BASE_NAME);
    // With neither prefix present, building with the released one reports its missing patch-embed tensor.
    const prefix = TOWER_PREFIXES.find((p) => ckpt.has(`${p}.patch_embed.proj.weight`)) ?? TOWER_PREFIXES[0];
    const model = buildQwenVisionGraph(config, ckpt, { root: resolve(modelRoot), prefix });
    return new QwenVisionModel(config, model, options);
  }

  /** Output rows (= `<|image_pad|>` tokens) of one image: t·h·w / m². */
  tokenCount(grid: GridThw): number {
    this.checkGrid(grid);
    return (grid[0] * grid[1] * grid[2]) / this.config.mergeUnit;
  }

  /**
   * Vision embeddings `[Σ tokenCount, out_hidden]` of the images whose patches are concatenated in
   * `pixelValues` `[Σ t·h·w, C·T·P·P]` (the processor's layout), in the order given.
   */
  async embed(pixelValues: Float32Array, gridThw: readonly GridThw[]): Promise<Float32Array> {
    const { patchDim, outHiddenSize } = this.config;
    const patches = gridThw.reduce((n, grid) => n + this.tokenCount(grid) * this.config.mergeUnit, 0);
    if (pixelValues.length !== patches * patchDim) {
      throw new RangeError(
        `pixel values hold ${pixelValues.length} values but the grids [${gridThw.map((g) => `[${g.join(', ')}]`).join(', ')}] need ${patches} patches × ${patchDim}`,
      );
    }
    const session = await this.ensureSession();
    const out = new Float32Array((patches / this.config.mergeUnit) * outHiddenSize);
    let patchAt = 0;
    let outAt = 0;
    for (const [frames, rows, cols] of gridThw) {
      const tables = this.frameFeeds({ rows, cols });
      const n = rows * cols;
      for (let f = 0; f < frames; f++, patchAt += n) {
        const pixels = pixelValues.subarray(patchAt * patchDim, (patchAt + n) * patchDim);
        const { vision_embeds: embeds } = await session.run({ pixel_values: f32(pixels, [n, patchDim]), ...tables });
        out.set(embeds!.data as Float32Array, outAt);
        outAt += (n / this.config.mergeUnit) * outHiddenSize;
      }
    }
    return out;
  }

  /** `embed` over preprocessed images (e.g. `preprocessForQwen` results), concatenated in order. */
  async embedImages(inputs: readonly VisionInput[]): Promise<Float32Array> {
    const pixels = new Float32Array(inputs.reduce((n, x) => n + x.pixelValues.length, 0));
    let at = 0;
    for (const x of inputs) {
      pixels.set(x.pixelValues, at);
      at += x.pixelValues.length;
    }
    return this.embed(
      pixels,
      inputs.map((x) => x.gridThw),
    );
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await (await session).release();
  }

  /** Rotary table and (when some block is windowed) the padded window batch of one frame. */
  private frameFeeds(grid: PatchGrid): Feeds {
    const cfg = this.config;
    const rope = visionRotaryTable(grid, {
      mergeSize: cfg.spatialMergeSize,
      pairs: cfg.rotaryPairs,
      theta: cfg.ropeTheta,
    });
    const feeds: Feeds = {
      rope_cos: f32(rope.cos, [rope.tokens, rope.pairs]),
      rope_sin: f32(rope.sin, [rope.tokens, rope.pairs]),
    };
    if (cfg.fullAttentionBlocks.size === cfg.depth) return feeds;
    const batch = windowBatch(
      visionWindowLayout(grid, { mergeSize: cfg.spatialMergeSize, windowUnits: cfg.windowUnits }),
      cfg.mergeUnit,
    );
    feeds.window_gather = i64(Array.from(batch.gather), [batch.windows, batch.width]);
    feeds.window_scatter = i64(Array.from(batch.scatter));
    feeds.window_bias = f32(batch.bias, [batch.windows, 1, batch.width, batch.width]);
    return feeds;
  }

  private checkGrid(grid: GridThw): void {
    const m = this.config.spatialMergeSize;
    const [t, h, w] = grid;
    const ok = grid.length === 3 && [t, h, w].every((v) => Number.isInteger(v) && v > 0) && h % m === 0 && w % m === 0;
    if (!ok)
      throw new RangeError(
        `image_grid_thw must be [t, h, w] positive integers with h and w multiples of ${m}, got [${grid.join(', ')}]`,
      );
  }

  private ensureSession(): Promise<OnnxSession> {
    if (!this.session) {
      const created = OnnxSession.create(this.model, this.options.session);
      created.catch(() => {
        if (this.session === created) this.session = null;
      });
      this.session = created;
    }
    return this.session;
  }
}
