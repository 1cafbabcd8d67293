import {
  Graph,
  Weights,
  type Checkpoint,
  type GraphBuildOptions,
  type OnnxModel,
  type WeightsOptions,
} from '../../onnx/index.ts';
import { WeightError } from '../../weights/weight-error.ts';
import { decoderLayer, type Rope } from './blocks.ts';
import type { QwenTextConfig } from './config.ts';

/**
 * The Qwen2.5-VL text decoder as ONE graph (`qwen_text`, model-notes.md §9.1's `qwen_text_encode` and
 * `qwen_lm_step` merged), batch 1, dynamic token axes. The same session serves every use, so the weights are
 * loaded once:
 * - conditioning (§2.1): S prompt tokens, empty past → `last_hidden`;
 * - chat prefill: S prompt tokens (image embeddings already spliced in), empty past → logits + present K/V;
 * - decoding: 1 new token with the past → logits + present K/V.
 *
 * | input                     | shape                 | notes                                              |
 * |---------------------------|-----------------------|----------------------------------------------------|
 * | `inputs_embeds`           | [1, S, D]             | embedding rows (host-side gather) and image rows   |
 * | `rope_cos`, `rope_sin`    | [S, d/2]              | M-RoPE tables of the new tokens (sampling/mrope.ts) |
 * | `attention_bias`          | [S, P+S]              | additive: 0 visible, large negative masked          |
 * | `past_key.N`, `past_value.N` | [1, P, KV·d]       | per layer; P = 0 for a prefill                      |
 *
 * Outputs: `last_hidden` [1, S, D] (after the final norm: what the DiT consumes), `logits` [1, 1, V] for the
 * last token (or [1, S, V] with `logits: 'all'`), `present_key.N`, `present_value.N` [1, P+S, KV·d].
 * Embedding lookup stays on the host so image embeddings can replace `<|image_pad|>` rows before the call.
 */
export interface QwenTextGraphOptions {
  /** Folder the session resolves weight locations against (contains the safetensors files). */
  readonly root: string;
  /** Expose every layer's output as `model.layers.N/hidden` (conformance, debugging). */
  readonly taps?: boolean;
  /** Logits for the last token only (generation) or for every token (conformance). Default 'last'. */
  readonly logits?: 'last' | 'all';
  /** How the graph computes (onnx/precision.ts); default fp32. */
  readonly precision?: GraphBuildOptions['precision'];
  /** Quantised linear weights for the int8/int4 precisions (weights/quant-cache.ts). */
  readonly quantized?: WeightsOptions['quantized'];
}

export const pastKeyName = (layer: number) => `past_key.${layer}`;
export const pastValueName = (layer: number) => `past_value.${layer}`;
export const presentKeyName = (layer: number) => `present_key.${layer}`;
export const presentValueName = (layer: number) => `present_value.${layer}`;

/** The LM head: `lm_head.weight`, or the embedding table when it is absent and embeddings are tied (§9.3.16). */
function lmHead(w: Weights, ckpt: Checkpoint, cfg: QwenTextConfig): ReturnType<Weights['linear']> {
  if (w.has('lm_head.weight')) return w.linear('lm_head', cfg.vocabSize, cfg.hiddenSize);
  if (!cfg.tieWordEmbeddings) {
    throw new WeightError(
      'missing-tensor',
      ckpt.path,
      `tensor "lm_head.weight" is missing from ${ckpt.path} and the config does not tie it to the embeddings`,
      'lm_head.weight',
    );
  }
  return w.linear('model.embed_tokens', cfg.vocabSize, cfg.hiddenSize);
}

export function buildQwenTextGraph(cfg: QwenTextConfig, ckpt: Checkpoint, o: QwenTextGraphOptions): OnnxModel {
  const g = new Graph({ name: 'qwen_text', taps: o.taps ?? false, precision: o.precision });
  const w = Weights.of(g, ckpt, { root: o.root, quantized: o.quantized });
  const { hiddenSize: D, numKvHeads: KV, headDim: d } = cfg;
  const pairs = d / 2;

  const embeds = g.input('inputs_embeds', 'float32', [1, 'tokens', D]);
  const rope: Rope = {
    cos: g.unsqueeze(g.input('rope_cos', 'float32', ['tokens', pairs]), [0]),
    sin: g.unsqueeze(g.input('rope_sin', 'float32', ['tokens', pairs]), [0]),
  };
  const bias = g.unsqueeze(g.input('attention_bias', 'float32', ['tokens', 'total_tokens']), [0, 1]);

  let x = embeds;
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    const cache = {
      pastKey: g.input(pastKeyName(i), 'float32', [1, 'past_tokens', KV * d]),
      pastValue: g.input(pastValueName(i), 'float32', [1, 'past_tokens', KV * d]),
      bias,
    };
    const h = x;
    const layer = g.scope(p, () => decoderLayer(g, w.scope(p), cfg, h, rope, cache));
    x = g.scope(p, () => g.tap('hidden', layer.hidden));
    g.output(layer.presentKey, presentKeyName(i));
    g.output(layer.presentValue, presentValueName(i));
  }
  const last = g.scope('model.norm', () => g.rmsNorm(x, w.tensor('model.norm.weight', [D]), cfg.rmsNormEps));
  g.output(last, 'last_hidden');

  const headInput =
    (o.logits ?? 'last') === 'all' ? last : g.slice(last, { starts: [-1], ends: [Number.MAX_SAFE_INTEGER], axes: [1] });
  const logits = g.scope('lm_head', () => g.linear(headInput, lmHead(w, ckpt, cfg)));
  g.output(logits, 'logits');
  return g.build();
}
