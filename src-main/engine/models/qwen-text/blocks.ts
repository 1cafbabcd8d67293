import type { Graph, Value, Weights } from '../../onnx/index.ts';
import type { QwenTextConfig } from './config.ts';

/** Per-token M-RoPE rotation `[1, S, d/2]` shared by every layer (tables built in sampling/mrope.ts). */
export interface Rope {
  readonly cos: Value;
  readonly sin: Value;
}

/** What one decoder layer attends over besides its own new tokens. */
export interface LayerCache {
  /** Keys/values of earlier tokens `[1, P, kvHeads·d]` (P may be 0); keys already rotated. */
  readonly pastKey: Value;
  readonly pastValue: Value;
  /** Additive mask `[1, 1, S, P+S]`: 0 where a query may see a key, a huge negative elsewhere (causal, padding). */
  readonly bias: Value;
}

/** `[1, P+S, kvHeads·d]`: what the next call passes back as the past. */
export interface Present {
  readonly presentKey: Value;
  readonly presentValue: Value;
}

export interface LayerOutput extends Present {
  readonly hidden: Value;
}

/**
 * Self-attention of §2.3 steps 2–4: biased q/k/v projections, M-RoPE on q and k (rotate-half), K/V appended
 * to the cache, GQA by repeat-interleave (query head i ↔ KV head ⌊i/groups⌋), softmax(q·kᵀ/√d + bias)·v, o_proj.
 */
export function selfAttention(
  g: Graph,
  w: Weights,
  cfg: QwenTextConfig,
  a: Value,
  rope: Rope,
  cache: LayerCache,
): Present & { out: Value } {
  const { hiddenSize: D, numHeads: H, numKvHeads: KV, headDim: d } = cfg;
  const q = g.linear(a, w.linear('q_proj', H * d, D, { bias: true })); // [1, S, H·d]
  const k = g.linear(a, w.linear('k_proj', KV * d, D, { bias: true })); // [1, S, KV·d]
  const v = g.linear(a, w.linear('v_proj', KV * d, D, { bias: true }));
  const qRot = g.rotaryEmbedding(q, rope.cos, rope.sin, { numHeads: H, interleaved: false });
  const kRot = g.rotaryEmbedding(k, rope.cos, rope.sin, { numHeads: KV, interleaved: false });
  const presentKey = g.concat([cache.pastKey, kRot], 1); // [1, P+S, KV·d]
  const presentValue = g.concat([cache.pastValue, v], 1);
  const repeat = (x: Value) => g.repeatKvHeads(x, { kvHeads: KV, groups: cfg.kvGroups, headDim: d });
  const attn = g.multiHeadAttention(qRot, repeat(presentKey), repeat(presentValue), {
    numHeads: H,
    attentionBias: cache.bias,
  });
  const out = g.linear(attn, w.linear('o_proj', D, H * d));
  return { out, presentKey, presentValue };
}

/** SwiGLU MLP (§2.3 step 6): W_down·(silu(W_gate·m) ∘ W_up·m), no biases. */
export function mlp(g: Graph, w: Weights, cfg: QwenTextConfig, m: Value): Value {
  const { hiddenSize: D, intermediateSize: F } = cfg;
  const gate = g.silu(g.linear(m, w.linear('gate_proj', F, D)));
  const up = g.linear(m, w.linear('up_proj', F, D));
  // The product is where fp16 overflows first (§9.3.2): under fp16 matmuls its rows are scaled into range.
  return g.linear(g.mul(gate, up), w.linear('down_proj', D, F), { outliers: true });
}

/**
 * One Qwen2 decoder layer, §2.3 steps 1–6 (pre-norm, RMSNorm eps from the config):
 * x ← x + Attn(RMSNorm(x)·g_in);  x ← x + MLP(RMSNorm(x)·g_post).
 */
export function decoderLayer(
  g: Graph,
  w: Weights,
  cfg: QwenTextConfig,
  x: Value,
  rope: Rope,
  cache: LayerCache,
): LayerOutput {
  const D = cfg.hiddenSize;
  const norm = (v: Value, key: string) => g.rmsNorm(v, w.tensor(key, [D]), cfg.rmsNormEps);
  const attn = g.scope('self_attn', () =>
    selfAttention(g, w.scope('self_attn'), cfg, norm(x, 'input_layernorm.weight'), rope, cache),
  );
  const h = g.add(x, attn.out);
  const ffn = g.scope('mlp', () => mlp(g, w.scope('mlp'), cfg, norm(h, 'post_attention_layernorm.weight')));
  return { hidden: g.add(h, ffn), presentKey: attn.presentKey, presentValue: attn.presentValue };
}
