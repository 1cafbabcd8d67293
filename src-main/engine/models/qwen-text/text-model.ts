import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Checkpoint,
  OnnxSession,
  f32,
  graphPrecision,
  type Feeds,
  type GraphBuildOptions,
  type OnnxModel,
  type SessionOptions,
} from '../../onnx/index.ts';
import { weightsForPrecision } from '../../weights/precision-weights.ts';
import { mropeRopeTable, type MropePositions } from '../../sampling/mrope.ts';
import { readConfigFile } from '../config-error.ts';
import { QwenConfigError, parseQwenTextConfig, type QwenTextConfig } from './config.ts';
import { EmbeddingTable } from './embeddings.ts';
import { buildQwenTextGraph, pastKeyName, pastValueName, presentKeyName, presentValueName } from './graphs.ts';

/** Keys (rotated) and values of the tokens seen so far, per layer `[length, kvHeads·d]`. */
export interface KvCache {
  readonly length: number;
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
}

export interface TextForwardInput {
  /** `[S, D]` input embeddings of the new tokens. */
  readonly embeds: Float32Array;
  /** M-RoPE ids of the new tokens (sampling/mrope.ts). */
  readonly positions: MropePositions;
  /** Earlier tokens; none for a prefill. */
  readonly cache?: KvCache;
  /** 1 = real token, 0 = padding, over all P+S keys; default all real (batch 1 is never padded, §9.3.8). */
  readonly attentionMask?: ArrayLike<number>;
}

export interface TextForwardOutput {
  /** `[S, D]` after the final norm (§2.3: the DiT conditioning). */
  readonly lastHidden: Float32Array;
  /** `[V]` for the last token, or `[S, V]` when loaded with `logits: 'all'`. */
  readonly logits: Float32Array;
  /** The input cache extended by the new tokens. */
  readonly cache: KvCache;
  /** Each layer's output `[S, D]`, when loaded with `taps`. */
  readonly layerHidden?: readonly Float32Array[];
}

export interface QwenTextLoadOptions {
  readonly session?: SessionOptions;
  /** Also return every layer's output (conformance, debugging). */
  readonly taps?: boolean;
  readonly logits?: 'last' | 'all';
  /**
   * How the graph computes (onnx/precision.ts); default fp32. fp16 converts the weights once into the weight
   * cache; int8/int4 quantise the decoder layers' linears there (the LM head stays float).
   */
  readonly precision?: GraphBuildOptions['precision'];
  /** The folder for this model's converted weights (weights/cache-location.ts); default `<mllm>/.atelier-cache/`. */
  readonly weightCacheDir?: string;
}

/** Under int8/int4: the attention and MLP projections of every decoder layer. */
export const QWEN_QUANTIZED_WEIGHTS = (key: string): boolean =>
  /^model\.layers\.\d+\.(self_attn|mlp)\.\w+\.weight$/.test(key);

/** float32's lowest value, the masked-key bias transformers uses (`torch.finfo(float32).min`). */
const MASKED = -3.4028234663852886e38;
const WEIGHTS_BASE_NAME = 'model';

/**
 * The Qwen2.5-VL text decoder on onnxruntime (model-notes.md §2.3). `load` parses the config and builds
 * the graph (checking every weight's key and shape); the session is created on first use and kept.
 */
export class QwenTextModel {
  private session: Promise<OnnxSession> | null = null;

  private constructor(
    readonly config: QwenTextConfig,
    private readonly model: OnnxModel,
    private readonly embeddings: EmbeddingTable,
    private readonly options: QwenTextLoadOptions,
  ) {}

  /** `path` is a model folder (with `mllm/`) or the `mllm/` folder itself. */
  static async load(path: string, options: QwenTextLoadOptions = {}): Promise<QwenTextModel> {
    const root = resolve(path);
    const dir = existsSync(join(root, 'mllm', 'config.json')) ? join(root, 'mllm') : root;
    const configPath = join(dir, 'config.json');
    const config = parseQwenTextConfig(readConfigFile(configPath, QwenConfigError, 'the MLLM config'), configPath);
    const ckpt = Checkpoint.open(dir, WEIGHTS_BASE_NAME);
    const precision = graphPrecision(options.precision);
    // fp32 and int keep today's in-graph casts of the (small) float tensors; fp16 needs the converted copy.
    const w = await weightsForPrecision(ckpt, {
      modelRoot: dir,
      cacheDir: options.weightCacheDir,
      component: 'mllm',
      precision,
      quantize: QWEN_QUANTIZED_WEIGHTS,
      convert: precision.policy.matmul === 'float16' ? 'cache' : 'cast',
    });
    const model = buildQwenTextGraph(config, w.checkpoint, {
      root: w.root,
      taps: options.taps ?? false,
      logits: options.logits ?? 'last',
      precision,
      quantized: w.quantized,
    });
    const embeddings = new EmbeddingTable(ckpt.info('model.embed_tokens.weight'), config.vocabSize, config.hiddenSize);
    return new QwenTextModel(config, model, embeddings, options);
  }

  /** Embedding rows of token ids `[n, D]` (§2.3 input; `<|image_pad|>` rows are replaced by the caller in chat). */
  embed(ids: ArrayLike<number>): Float32Array {
    return this.embeddings.lookup(ids);
  }

  async forward(input: TextForwardInput): Promise<TextForwardOutput> {
    const { hiddenSize: D, numLayers, numKvHeads, headDim } = this.config;
    const S = input.positions.length;
    const P = input.cache?.length ?? 0;
    const kvWidth = numKvHeads * headDim;
    if (S < 1 || input.embeds.length !== S * D)
      throw new RangeError(`inputs_embeds: ${input.embeds.length} values for ${S} positions do not fill [${S}, ${D}]`);
    const rope = mropeRopeTable(input.positions, {
      headDim,
      theta: this.config.ropeTheta,
      section: this.config.mropeSection,
    });
    const feeds: Feeds = {
      inputs_embeds: f32(input.embeds, [1, S, D]),
      rope_cos: f32(rope.cos, [S, rope.pairs]),
      rope_sin: f32(rope.sin, [S, rope.pairs]),
      attention_bias: f32(attentionBias(S, P, input.attentionMask), [S, P + S]),
    };
    for (let i = 0; i < numLayers; i++) {
      feeds[pastKeyName(i)] = f32(input.cache?.keys[i] ?? new Float32Array(0), [1, P, kvWidth]);
      feeds[pastValueName(i)] = f32(input.cache?.values[i] ?? new Float32Array(0), [1, P, kvWidth]);
    }
    const out = await (await this.ready()).run(feeds);
    const data = (name: string) => out[name]!.data as Float32Array;
    const layers = Array.from({ length: numLayers }, (_, i) => i);
    return {
      lastHidden: data('last_hidden'),
      logits: data('logits'),
      cache: {
        length: P + S,
        keys: layers.map((i) => data(presentKeyName(i))),
        values: layers.map((i) => data(presentValueName(i))),
      },
      ...(this.options.taps ? { layerHidden: layers.map((i) => data(`model.layers.${i}/hidden`)) } : {}),
    };
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await (await session).release();
  }

  private ready(): Promise<OnnxSession> {
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

/**
 * `[S, P+S]` additive mask: new token i (sequence index P+i) sees keys j ≤ P+i that are not padding. A padding
 * query that sees nothing gets a uniform (finite) row, as with transformers' finite minimum; its output is unused.
 */
function attentionBias(S: number, P: number, mask: ArrayLike<number> | undefined): Float32Array {
  const T = P + S;
  if (mask !== undefined && mask.length !== T)
    throw new RangeError(`attention mask covers ${mask.length} tokens, expected ${T} (past ${P} + new ${S})`);
  const bias = new Float32Array(S * T);
  for (let i = 0; i < S; i++) {
    for (let j = 0; j < T; j++) {
      if (j > P + i || (mask !== undefined && mask[j] === 0)) bias[i * T + j] = MASKED;
    }
  }
  return bias;
}
