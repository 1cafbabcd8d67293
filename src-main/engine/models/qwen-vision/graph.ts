import { Graph, Weights, type Checkpoint, type OnnxModel, type Value } from '../../onnx/index.ts';
import type { QwenVisionConfig } from './config.ts';

/**
 * The vision tower as one graph `qwen_vision` over one frame (model-notes.md §2.4, §9.1), batch-free
 * with a dynamic patch count N, in the processor's token order throughout:
 *
 * | input            | shape                 | what                                                 |
 * |------------------|-----------------------|------------------------------------------------------|
 * | `pixel_values`   | [N, C·T·P·P]          | patches as the Qwen2-VL processor emits them         |
 * | `rope_cos/sin`   | [N, head_dim/2]       | 2-D rotary table (layout.ts `visionRotaryTable`)     |
 * | `window_gather`  | [windows, width] i64  | padded window slots → token (layout.ts `windowBatch`) |
 * | `window_scatter` | [N] i64               | token → its slot                                     |
 * | `window_bias`    | [windows, 1, width, width] | additive mask of the padding keys                |
 *
 * Output `vision_embeds` [N/m², out_hidden]. The window inputs exist only when some block is windowed.
 * The reference permutes tokens window by window and back after the merger; every step is per token,
 * per window, per frame or per merge unit (which the permutation keeps together), so gathering each
 * window's tokens straight from the processor's order computes the same thing without the permutation.
 */
export const VISION_GRAPH_NAME = 'qwen_vision';

export interface QwenVisionGraphOptions {
  /** Folder the session resolves weight locations against (contains the safetensors files). */
  readonly root: string;
  /** Key prefix of the tower: `visual` (transformers 4.51, the released files) or `model.visual` (newer saves). */
  readonly prefix: string;
  /** Expose `tap()` intermediates (per-block attention and MLP outputs) as extra outputs. */
  readonly taps?: boolean;
}

/** cos/sin `[B, S, head_dim/2]` for RotaryEmbedding. */
interface Rotary {
  readonly cos: Value;
  readonly sin: Value;
}

/** qkv `[B, S, 3D]` → softmax(q·kᵀ/√d + bias)·v `[B, S, D]` with rotate-half rotary on q and k (§2.4 step 4). */
function rotaryAttention(g: Graph, cfg: QwenVisionConfig, qkv: Value, rotary: Rotary, attentionBias?: Value): Value {
  // The reference reshapes qkv to (S, 3, heads, d): q, k, v are the three consecutive D-wide thirds.
  const [q, k, v] = g.split(qkv, 3, -1);
  const rotate = (x: Value) =>
    g.rotaryEmbedding(x, rotary.cos, rotary.sin, { numHeads: cfg.numHeads, interleaved: false });
  return g.multiHeadAttention(rotate(q), rotate(k), v, { numHeads: cfg.numHeads, attentionBias });
}

/** down(silu(gate(y)) ∘ up(y)), all with bias (§2.4 step 4). */
function gatedMlp(g: Graph, w: Weights, cfg: QwenVisionConfig, y: Value): Value {
  const D = cfg.hiddenSize;
  const F = cfg.intermediateSize;
  const gate = g.linear(y, w.linear('gate_proj', F, D, { bias: true }));
  const up = g.linear(y, w.linear('up_proj', F, D, { bias: true }));
  return g.linear(g.mul(g.silu(gate), up), w.linear('down_proj', D, F, { bias: true }));
}

/**
 * §2.4 step 4: x += proj(Attn(RMSNorm(x)·g1)); x += MLP(RMSNorm(x)·g2). `attend` maps qkv `[N, 3D]` to the
 * attention output `[N, D]` over either the whole frame or its windows.
 */
function visionBlock(g: Graph, w: Weights, cfg: QwenVisionConfig, x: Value, attend: (qkv: Value) => Value): Value {
  const D = cfg.hiddenSize;
  const norm = (v: Value, key: string) => g.rmsNorm(v, w.tensor(key, [D]), cfg.normEps);
  const attn = g.scope('attn', () => {
    const qkv = g.linear(norm(x, 'norm1.weight'), w.linear('attn.qkv', 3 * D, D, { bias: true }));
    return g.linear(attend(qkv), w.linear('attn.proj', D, D, { bias: true }));
  });
  const h = g.add(x, g.tap('attn_out', attn));
  const mlp = g.scope('mlp', () => gatedMlp(g, w.scope('mlp'), cfg, norm(h, 'norm2.weight')));
  return g.add(h, g.tap('mlp_out', mlp));
}

/** §2.4 step 5: RMSNorm per token, m² consecutive tokens (one merge unit) → Linear → exact GELU → Linear. */
function patchMerger(g: Graph, w: Weights, cfg: QwenVisionConfig, x: Value): Value {
  const M = cfg.mergedDim;
  const units = g.reshape(g.rmsNorm(x, w.tensor('ln_q.weight', [cfg.hiddenSize]), cfg.normEps), [-1, M]);
  const h = g.linear(units, w.linear('mlp.0', M, M, { bias: true }));
  const gelu = g.mul(g.mulScalar(h, 0.5), g.addScalar(g.erf(g.mulScalar(h, Math.SQRT1_2)), 1));
  return g.linear(gelu, w.linear('mlp.2', cfg.outHiddenSize, M, { bias: true }));
}

/** Builds `qwen_vision`; every weight's key and shape is checked here (WeightError names tensor and file). */
export function buildQwenVisionGraph(cfg: QwenVisionConfig, ckpt: Checkpoint, o: QwenVisionGraphOptions): OnnxModel {
  const g = new Graph({ name: VISION_GRAPH_NAME, taps: o.taps ?? false });
  const w = Weights.of(g, ckpt, { root: o.root }).scope(o.prefix);
  const D = cfg.hiddenSize;
  const P = cfg.rotaryPairs;

  const pixels = g.input('pixel_values', 'float32', ['patches', cfg.patchDim]);
  const cos = g.input('rope_cos', 'float32', ['patches', P]);
  const sin = g.input('rope_sin', 'float32', ['patches', P]);
  const frameRotary: Rotary = { cos: g.unsqueeze(cos, [0]), sin: g.unsqueeze(sin, [0]) };
  const fullAttention = (qkv: Value) => g.squeeze(rotaryAttention(g, cfg, g.unsqueeze(qkv, [0]), frameRotary), [0]);

  let windowAttention = fullAttention;
  if (cfg.fullAttentionBlocks.size < cfg.depth) {
    const gather = g.input('window_gather', 'int64', ['windows', 'window_width']);
    const scatter = g.input('window_scatter', 'int64', ['patches']);
    const bias = g.input('window_bias', 'float32', ['windows', 1, 'window_width', 'window_width']);
    const windowRotary: Rotary = { cos: g.gather(cos, gather, 0), sin: g.gather(sin, gather, 0) };
    windowAttention = (qkv: Value) => {
      const perWindow = rotaryAttention(g, cfg, g.gather(qkv, gather, 0), windowRotary, bias); // [windows, width, D]
      return g.gather(g.reshape(perWindow, [-1, D]), scatter, 0); // [N, D]
    };
  }

  // §2.4 step 1: the Conv3d with kernel = stride = patch is a linear map of each flattened patch.
  const embedded = g.scope('patch_embed', () => {
    const proj = w.tensor('patch_embed.proj.weight', [
      D,
      cfg.inChannels,
      cfg.temporalPatchSize,
      cfg.patchSize,
      cfg.patchSize,
    ]);
    return g.linear(pixels, { weight: g.reshape(proj, [D, cfg.patchDim]), bias: null });
  });
  let x = embedded;
  for (let i = 0; i < cfg.depth; i++) {
    const p = `blocks.${i}`;
    const h = x;
    const attend = cfg.fullAttentionBlocks.has(i) ? fullAttention : windowAttention;
    x = g.scope(p, () => visionBlock(g, w.scope(p), cfg, h, attend));
  }
  g.output(
    g.scope('merger', () => patchMerger(g, w.scope('merger'), cfg, x)),
    'vision_embeds',
  );
  return g.build();
}
