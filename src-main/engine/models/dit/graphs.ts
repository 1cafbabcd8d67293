import {
  Graph,
  Weights,
  type Checkpoint,
  type GraphBuildOptions,
  type OnnxModel,
  type Value,
  type WeightsOptions,
} from '../../onnx/index.ts';
import {
  captionEmbedding,
  finalLayer,
  modulatedBlock,
  modulatedNorm1,
  plainBlock,
  timestepEmbedding,
  type Rope,
} from './blocks.ts';
import { MAX_REFERENCE_IMAGES, TIMESTEP_FEATURES, type DitConfig } from './config.ts';

/**
 * The DiT as graphs (model-notes.md §9.1), all batch 1 with dynamic token axes so one session
 * serves every text length, reference size and output size:
 *
 * | graph          | inputs                                                    | output                 | runs          |
 * |----------------|-----------------------------------------------------------|------------------------|---------------|
 * | `dit_text`     | text_hidden_states [L, F], rope_cos/sin [L, P]            | text_tokens [L, D]     | once a branch |
 * | `dit_temb`     | timestep_features [1, 256]                                | temb [1, D_t]          | per step      |
 * | `dit_ref`      | ref_patches [N_j, p²C], image_index [1], temb, rope [N_j] | ref_tokens [N_j, D]    | per step·ref  |
 * | `dit_main`     | text_tokens, ref_tokens [R, D], noise_patches [N, p²C],   | output [N, p²C_out]    | per step      |
 * |                | temb, rope_cos/sin [S, P] over text ‖ refs ‖ image        |                        |               |
 *
 * With TeaCache or TaylorSeer (§6) `dit_main` is replaced by three pieces, so the host can skip or
 * extrapolate the main layers between them:
 *
 * | `dit_joint_in` | the inputs of `dit_main`                                  | joint, modulated [S, D]| per step      |
 * | `dit_layers`   | joint [S, D], temb, rope_cos/sin [S, P]                   | hidden [S, D]          | when computed |
 * | `dit_final`    | hidden [N, D] (image tokens of layer 31's output), temb   | output [N, p²C_out]    | per step      |
 *
 * Patchify, RoPE tables and timestep features are computed in TypeScript. P = d_h / 2.
 */
export type DitGraphName =
  'dit_text' | 'dit_temb' | 'dit_ref' | 'dit_main' | 'dit_joint_in' | 'dit_layers' | 'dit_final';

export interface DitGraphOptions {
  /** Folder the sessions resolve weight locations against (contains the safetensors files). */
  root: string;
  /** Expose `tap()` intermediates (attention/FFN outputs per block) as extra outputs. */
  taps?: boolean;
  /** How the graphs compute (onnx/precision.ts); default fp32. */
  precision?: GraphBuildOptions['precision'];
  /** Quantised linear weights for the int8/int4 precisions (weights/quant-cache.ts). */
  quantized?: WeightsOptions['quantized'];
}

interface Builder {
  g: Graph;
  w: Weights;
}

function start(name: DitGraphName, ckpt: Checkpoint, o: DitGraphOptions): Builder {
  const g = new Graph({ name, taps: o.taps ?? false, precision: o.precision });
  return { g, w: Weights.of(g, ckpt, { root: o.root, quantized: o.quantized }) };
}

/** cos/sin inputs `[tokens, P]`, lifted to `[1, tokens, P]` for RotaryEmbedding. */
function ropeInputs(g: Graph, cfg: DitConfig, prefix: string, tokens: string): Rope {
  const input = (n: string) => g.unsqueeze(g.input(`${prefix}_${n}`, 'float32', [tokens, cfg.ropePairs]), [0]);
  return { cos: input('cos'), sin: input('sin') };
}

function refinerStack(b: Builder, cfg: DitConfig, prefix: string, x: Value, temb: Value, rope: Rope): Value {
  let h = x;
  for (let i = 0; i < cfg.numRefinerLayers; i++) {
    const p = `${prefix}.${i}`;
    h = b.g.scope(p, () => modulatedBlock(b.g, b.w.scope(p), cfg, h, temb, rope));
  }
  return h;
}

/** Caption embedding + context refiner (t-invariant: cache the output for all steps of a branch). */
export function buildTextGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_text', ckpt, o);
  const { g, w } = b;
  const text = g.input('text_hidden_states', 'float32', ['text_tokens', cfg.textFeatDim]);
  const rope = ropeInputs(g, cfg, 'rope', 'text_tokens');
  let x = g.scope('time_caption_embed.caption_embedder', () =>
    captionEmbedding(g, w.scope('time_caption_embed.caption_embedder'), cfg, text),
  );
  for (let i = 0; i < cfg.numRefinerLayers; i++) {
    const p = `context_refiner.${i}`;
    const h = x;
    x = g.scope(p, () => plainBlock(g, w.scope(p), cfg, h, rope));
  }
  g.output(x, 'text_tokens');
  return g.build();
}

export function buildTembGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const { g, w } = start('dit_temb', ckpt, o);
  const features = g.input('timestep_features', 'float32', [1, TIMESTEP_FEATURES]);
  const p = 'time_caption_embed.timestep_embedder';
  g.output(
    g.scope(p, () => timestepEmbedding(g, w.scope(p), cfg, features, TIMESTEP_FEATURES)),
    'temb',
  );
  return g.build();
}

/** One reference image: patch embedding + image_index_embedding[j], then ref_image_refiner over its tokens only. */
export function buildRefGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_ref', ckpt, o);
  const { g, w } = b;
  const D = cfg.hiddenSize;
  const patches = g.input('ref_patches', 'float32', ['ref_tokens', cfg.patchDim]);
  const index = g.input('image_index', 'int64', [1]);
  const temb = g.input('temb', 'float32', [1, cfg.tembDim]);
  const rope = ropeInputs(g, cfg, 'rope', 'ref_tokens');
  const embedded = g.scope('ref_image_patch_embedder', () =>
    g.linear(patches, w.linear('ref_image_patch_embedder', D, cfg.patchDim, { bias: true })),
  );
  const indexRow = g.gather(w.tensor('image_index_embedding', [MAX_REFERENCE_IMAGES, D]), index, 0); // [1, D]
  const x = g.add(embedded, indexRow);
  g.output(refinerStack(b, cfg, 'ref_image_refiner', x, temb, rope), 'ref_tokens');
  return g.build();
}

/** Joint sequence j = text ‖ refs ‖ noise_refiner(x_embedder(patches)), the input of layers.0 (§3.7). */
function jointSequence(
  b: Builder,
  cfg: DitConfig,
): { joint: Value; temb: Value; rope: Rope; imageTail: (x: Value, axis: number) => Value } {
  const { g, w } = b;
  const D = cfg.hiddenSize;
  const text = g.input('text_tokens', 'float32', ['text_tokens', D]);
  const refs = g.input('ref_tokens', 'float32', ['ref_tokens', D]);
  const patches = g.input('noise_patches', 'float32', ['image_tokens', cfg.patchDim]);
  const temb = g.input('temb', 'float32', [1, cfg.tembDim]);
  const rope = ropeInputs(g, cfg, 'rope', 'seq');

  // The image tokens are the tail of the joint sequence, so their rotation is the tail of the joint table.
  const imageTokens = g.slice(g.shapeOf(patches), { starts: [0], ends: [1], axes: [0] });
  const imageTail = (x: Value, axis: number) =>
    g.sliceDynamic(x, { starts: g.neg(imageTokens), ends: g.int64s([Number.MAX_SAFE_INTEGER]), axes: [axis] });
  const imageRope: Rope = { cos: imageTail(rope.cos, 1), sin: imageTail(rope.sin, 1) };

  const x = g.scope('x_embedder', () => g.linear(patches, w.linear('x_embedder', D, cfg.patchDim, { bias: true })));
  const joint = g.concat([text, refs, refinerStack(b, cfg, 'noise_refiner', x, temb, imageRope)], 0);
  return { joint, temb, rope, imageTail };
}

function mainLayers(b: Builder, cfg: DitConfig, joint: Value, temb: Value, rope: Rope): Value {
  let x = joint;
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `layers.${i}`;
    const h = x;
    x = b.g.scope(p, () => modulatedBlock(b.g, b.w.scope(p), cfg, h, temb, rope));
  }
  return x;
}

function final(b: Builder, cfg: DitConfig, x: Value, temb: Value): Value {
  return b.g.scope('norm_out', () => finalLayer(b.g, b.w.scope('norm_out'), cfg, x, temb));
}

/**
 * Noise refiner over the output-image tokens, the joint layers over [text ‖ refs ‖ image], and the
 * final layer on the image tokens only (it is per token, so slicing first is exact and cheaper).
 */
export function buildMainGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_main', ckpt, o);
  const { joint, temb, rope, imageTail } = jointSequence(b, cfg);
  b.g.output(final(b, cfg, imageTail(mainLayers(b, cfg, joint, temb, rope), 0), temb), 'output');
  return b.g.build();
}

/** `dit_main` up to layers.0's input: j and TeaCache's m = layers.0's modulated norm1(j) (§6.1). */
export function buildJointInGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_joint_in', ckpt, o);
  const { joint, temb } = jointSequence(b, cfg);
  const modulated = b.g.scope('layers.0', () => modulatedNorm1(b.g, b.w.scope('layers.0'), cfg, joint, temb).u);
  b.g.output(joint, 'joint');
  b.g.output(modulated, 'modulated');
  return b.g.build();
}

/** The 32 main layers alone: j → layer 31's output over the whole joint sequence. */
export function buildLayersGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_layers', ckpt, o);
  const joint = b.g.input('joint', 'float32', ['seq', cfg.hiddenSize]);
  const temb = b.g.input('temb', 'float32', [1, cfg.tembDim]);
  b.g.output(mainLayers(b, cfg, joint, temb, ropeInputs(b.g, cfg, 'rope', 'seq')), 'hidden');
  return b.g.build();
}

/** The final layer on the image tokens of layer 31's output (computed, TeaCache j + R, or TaylorSeer's extrapolation). */
export function buildFinalGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_final', ckpt, o);
  const hidden = b.g.input('hidden', 'float32', ['image_tokens', cfg.hiddenSize]);
  const temb = b.g.input('temb', 'float32', [1, cfg.tembDim]);
  b.g.output(final(b, cfg, hidden, temb), 'output');
  return b.g.build();
}

export const DIT_GRAPHS: Record<DitGraphName, (cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions) => OnnxModel> = {
  dit_text: buildTextGraph,
  dit_temb: buildTembGraph,
  dit_ref: buildRefGraph,
  dit_main: buildMainGraph,
  dit_joint_in: buildJointInGraph,
  dit_layers: buildLayersGraph,
  dit_final: buildFinalGraph,
};
