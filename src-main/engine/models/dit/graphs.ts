import { Graph, Weights, type Checkpoint, type OnnxModel, type Value } from '../../onnx/index.ts';
import { captionEmbedding, finalLayer, modulatedBlock, plainBlock, timestepEmbedding, type Rope } from './blocks.ts';
import { MAX_REFERENCE_IMAGES, TIMESTEP_FEATURES, type DitConfig } from './config.ts';

/**
 * The DiT as four graphs (omnigen2-inference.md §9.1), all batch 1 with dynamic token axes so one
 * session serves every text length, reference size and output size:
 *
 * | graph      | inputs                                                    | output              | runs          |
 * |------------|-----------------------------------------------------------|---------------------|---------------|
 * | `dit_text` | text_hidden_states [L, F], rope_cos/sin [L, P]            | text_tokens [L, D]  | once a branch |
 * | `dit_temb` | timestep_features [1, 256]                                | temb [1, D_t]       | per step      |
 * | `dit_ref`  | ref_patches [N_j, p²C], image_index [1], temb, rope [N_j] | ref_tokens [N_j, D] | per step·ref  |
 * | `dit_main` | text_tokens, ref_tokens [R, D], noise_patches [N, p²C],   | output [N, p²C_out] | per step      |
 * |            | temb, rope_cos/sin [S, P] over text ‖ refs ‖ image        |                     |               |
 *
 * Patchify, RoPE tables and timestep features are computed in TypeScript. P = d_h / 2.
 */
export type DitGraphName = 'dit_text' | 'dit_temb' | 'dit_ref' | 'dit_main';

export interface DitGraphOptions {
  /** Folder the sessions resolve weight locations against (contains the safetensors files). */
  root: string;
  /** Expose `tap()` intermediates (attention/FFN outputs per block) as extra outputs. */
  taps?: boolean;
}

interface Builder {
  g: Graph;
  w: Weights;
}

function start(name: DitGraphName, ckpt: Checkpoint, o: DitGraphOptions): Builder {
  const g = new Graph({ name, taps: o.taps ?? false });
  return { g, w: Weights.of(g, ckpt, { root: o.root }) };
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
  let x = g.scope('time_caption_embed.caption_embedder', () => captionEmbedding(g, w.scope('time_caption_embed.caption_embedder'), cfg, text));
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
  g.output(g.scope(p, () => timestepEmbedding(g, w.scope(p), cfg, features, TIMESTEP_FEATURES)), 'temb');
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
  const embedded = g.scope('ref_image_patch_embedder', () => g.linear(patches, w.linear('ref_image_patch_embedder', D, cfg.patchDim, { bias: true })));
  const indexRow = g.gather(w.tensor('image_index_embedding', [MAX_REFERENCE_IMAGES, D]), index, 0); // [1, D]
  const x = g.add(embedded, indexRow);
  g.output(refinerStack(b, cfg, 'ref_image_refiner', x, temb, rope), 'ref_tokens');
  return g.build();
}

/**
 * Noise refiner over the output-image tokens, the joint layers over [text ‖ refs ‖ image], and the
 * final layer on the image tokens only (it is per token, so slicing first is exact and cheaper).
 */
export function buildMainGraph(cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions): OnnxModel {
  const b = start('dit_main', ckpt, o);
  const { g, w } = b;
  const D = cfg.hiddenSize;
  const text = g.input('text_tokens', 'float32', ['text_tokens', D]);
  const refs = g.input('ref_tokens', 'float32', ['ref_tokens', D]);
  const patches = g.input('noise_patches', 'float32', ['image_tokens', cfg.patchDim]);
  const temb = g.input('temb', 'float32', [1, cfg.tembDim]);
  const rope = ropeInputs(g, cfg, 'rope', 'seq');

  // The image tokens are the tail of the joint sequence, so their rotation is the tail of the joint table.
  const imageTokens = g.slice(g.shapeOf(patches), { starts: [0], ends: [1], axes: [0] });
  const tail = (x: Value, axis: number) => g.sliceDynamic(x, { starts: g.neg(imageTokens), ends: g.int64s([Number.MAX_SAFE_INTEGER]), axes: [axis] });
  const imageRope: Rope = { cos: tail(rope.cos, 1), sin: tail(rope.sin, 1) };

  let x = g.scope('x_embedder', () => g.linear(patches, w.linear('x_embedder', D, cfg.patchDim, { bias: true })));
  x = refinerStack(b, cfg, 'noise_refiner', x, temb, imageRope);
  let joint = g.concat([text, refs, x], 0);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `layers.${i}`;
    const h = joint;
    joint = g.scope(p, () => modulatedBlock(g, w.scope(p), cfg, h, temb, rope));
  }
  const out = g.scope('norm_out', () => finalLayer(g, w.scope('norm_out'), cfg, tail(joint, 0), temb));
  g.output(out, 'output');
  return g.build();
}

export const DIT_GRAPHS: Record<DitGraphName, (cfg: DitConfig, ckpt: Checkpoint, o: DitGraphOptions) => OnnxModel> = {
  dit_text: buildTextGraph,
  dit_temb: buildTembGraph,
  dit_ref: buildRefGraph,
  dit_main: buildMainGraph,
};
