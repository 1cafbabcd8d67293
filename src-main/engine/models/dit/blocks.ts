import type { Graph, Value, Weights } from '../../onnx/index.ts';
import type { DitConfig } from './config.ts';

/** Per-token Omni-RoPE rotation for one token run: cos/sin `[1, S, d_h/2]` (§4.3, interleaved pairs). */
export interface Rope {
  readonly cos: Value;
  readonly sin: Value;
}

/** diffusers builds the q/k RMSNorms with a fixed eps of 1e-5 (not `norm_eps`), §3.4 step 2. */
const QK_NORM_EPS = 1e-5;
/** `norm_out` is a LayerNorm without affine parameters, eps 1e-6 (§3.6). */
const FINAL_NORM_EPS = 1e-6;

/**
 * Self-attention `Attn(u)`, §3.4: bias-free q/k/v, per-head RMSNorm of q and k, interleaved Omni-RoPE,
 * GQA (query head i reads KV head ⌊i/groups⌋), softmax scale 1/√d_h, `to_out.0`.  u: `[S, D]` → `[S, D]`.
 */
export function selfAttention(g: Graph, w: Weights, cfg: DitConfig, u: Value, rope: Rope): Value {
  const { hiddenSize: D, numHeads: H, numKvHeads: Hkv, headDim: dh } = cfg;
  // q, k: [S, heads·d_h] → RMSNorm per head over d_h → [1, S, heads·d_h] for the rotary/attention ops
  const project = (key: string, heads: number) => g.scope(key, () => g.linear(u, w.linear(key, heads * dh, D)));
  const normed = (x: Value, heads: number, key: string) =>
    g.scope(key, () =>
      g.reshape(g.rmsNorm(g.reshape(x, [0, heads, dh]), w.tensor(`${key}.weight`, [dh]), QK_NORM_EPS), [
        1,
        -1,
        heads * dh,
      ]),
    );
  const rotate = (x: Value, heads: number) =>
    g.rotaryEmbedding(x, rope.cos, rope.sin, { numHeads: heads, interleaved: true });
  const q = rotate(normed(project('to_q', H), H, 'norm_q'), H);
  const k = rotate(normed(project('to_k', Hkv), Hkv, 'norm_k'), Hkv);
  const v = g.reshape(project('to_v', Hkv), [1, -1, Hkv * dh]);
  const expand = (x: Value) => g.repeatKvHeads(x, { kvHeads: Hkv, groups: cfg.kvGroups, headDim: dh });
  const o = g.multiHeadAttention(q, expand(k), expand(v), { numHeads: H, scale: 1 / Math.sqrt(dh) }); // [1, S, D]
  return g.scope('to_out.0', () => g.linear(g.reshape(o, [-1, D]), w.linear('to_out.0', D, D)));
}

/** SwiGLU `FFN(z) = W_2·(silu(W_1 z) ∘ W_3 z)`, §3.5, no biases. */
export function swiGlu(g: Graph, w: Weights, cfg: DitConfig, z: Value): Value {
  const { hiddenSize: D, ffnDim: F } = cfg;
  const gate = g.scope('linear_1', () => g.silu(g.linear(z, w.linear('linear_1', F, D))));
  const up = g.scope('linear_3', () => g.linear(z, w.linear('linear_3', F, D)));
  // The product is the fp16 risk spot of §9.3.2: under fp16 matmuls its rows are scaled into range (graph.ts linear).
  return g.scope('linear_2', () => g.linear(g.mul(gate, up), w.linear('linear_2', D, F), { outliers: true }));
}

/**
 * `norm1` of a modulated block, §3.3 steps 1–2: the modulation vectors and the modulated input `u`.
 * With layers.0's weights over the joint sequence, `u` is TeaCache's distance input m (§6.1).
 */
export function modulatedNorm1(
  g: Graph,
  w: Weights,
  cfg: DitConfig,
  x: Value,
  temb: Value,
): { u: Value; gateAttn: Value; scaleFfn: Value; gateFfn: Value } {
  const D = cfg.hiddenSize;
  // 1. [s_a, g_a, s_f, g_f] = split4(W_mod·silu(temb) + b_mod)                 4 × [1, D]
  const modulation = g.scope('norm1.linear', () =>
    g.linear(g.silu(temb), w.linear('norm1.linear', 4 * D, cfg.tembDim, { bias: true })),
  );
  const [scaleAttn, gateAttn, scaleFfn, gateFfn] = g.split(modulation, 4, -1);
  // 2. u = RMSNorm(x)·g_norm1 ∘ (1 + s_a)                                        [S, D]
  const u = g.mul(g.rmsNorm(x, w.tensor('norm1.norm.weight', [D]), cfg.normEps), g.addScalar(scaleAttn, 1));
  return { u, gateAttn, scaleFfn, gateFfn };
}

/**
 * Modulated block `Blk_mod`, §3.3 steps 1–5: scale-only RMSNorm modulation (no shift), tanh gates,
 * sandwich norms. Used by noise_refiner, ref_image_refiner and layers.  x: `[S, D]`, temb: `[1, D_t]`.
 */
export function modulatedBlock(g: Graph, w: Weights, cfg: DitConfig, x: Value, temb: Value, rope: Rope): Value {
  const D = cfg.hiddenSize;
  const norm = (v: Value, key: string) => g.rmsNorm(v, w.tensor(key, [D]), cfg.normEps);
  // 1–2. modulation split4 and u = RMSNorm(x)·g_norm1 ∘ (1 + s_a)
  const { u, gateAttn, scaleFfn, gateFfn } = modulatedNorm1(g, w, cfg, x, temb);
  // 3. x ← x + tanh(g_a) ∘ (RMSNorm(Attn(u))·g_norm2)                         (updated x is `h`)
  const attn = g.tap(
    'attn_out',
    g.scope('attn', () => selfAttention(g, w.scope('attn'), cfg, u, rope)),
  );
  const h = g.add(x, g.mul(g.tanh(gateAttn), norm(attn, 'norm2.weight')));
  // 4. z = RMSNorm(h)·g_ffn_norm1 ∘ (1 + s_f)
  const z = g.mul(norm(h, 'ffn_norm1.weight'), g.addScalar(scaleFfn, 1));
  // 5. x ← h + tanh(g_f) ∘ (RMSNorm(FFN(z))·g_ffn_norm2)
  const ffn = g.tap(
    'ffn_out',
    g.scope('feed_forward', () => swiGlu(g, w.scope('feed_forward'), cfg, z)),
  );
  return g.add(h, g.mul(g.tanh(gateFfn), norm(ffn, 'ffn_norm2.weight')));
}

/** Plain block `Blk_plain` (context refiner), §3.3: the modulated block without modulation or gates. */
export function plainBlock(g: Graph, w: Weights, cfg: DitConfig, x: Value, rope: Rope): Value {
  const D = cfg.hiddenSize;
  const norm = (v: Value, key: string) => g.rmsNorm(v, w.tensor(key, [D]), cfg.normEps);
  const attn = g.scope('attn', () => selfAttention(g, w.scope('attn'), cfg, norm(x, 'norm1.weight'), rope));
  const h = g.add(x, norm(attn, 'norm2.weight'));
  const ffn = g.scope('feed_forward', () => swiGlu(g, w.scope('feed_forward'), cfg, norm(h, 'ffn_norm1.weight')));
  return g.add(h, norm(ffn, 'ffn_norm2.weight'));
}

/** `temb = W2·silu(W1·e + b1) + b2` on the sinusoidal features e `[1, 256]` → `[1, D_t]` (§3.1). */
export function timestepEmbedding(g: Graph, w: Weights, cfg: DitConfig, features: Value, featureDim: number): Value {
  const hidden = g.scope('linear_1', () =>
    g.silu(g.linear(features, w.linear('linear_1', cfg.tembDim, featureDim, { bias: true }))),
  );
  return g.scope('linear_2', () => g.linear(hidden, w.linear('linear_2', cfg.tembDim, cfg.tembDim, { bias: true })));
}

/** Caption embedding `c = W_c·(RMSNorm(H)·g_c) + b_c`, §3.1.  H: `[L, text_feat_dim]` → `[L, D]`. */
export function captionEmbedding(g: Graph, w: Weights, cfg: DitConfig, text: Value): Value {
  const normed = g.scope('0', () => g.rmsNorm(text, w.tensor('0.weight', [cfg.textFeatDim]), cfg.normEps));
  return g.scope('1', () => g.linear(normed, w.linear('1', cfg.hiddenSize, cfg.textFeatDim, { bias: true })));
}

/** Final layer, §3.6: `W_o2·(LayerNorm(x) ∘ (1 + W_o1·silu(temb) + b_o1)) + b_o2`, no shift, no gate. */
export function finalLayer(g: Graph, w: Weights, cfg: DitConfig, x: Value, temb: Value): Value {
  const D = cfg.hiddenSize;
  const scale = g.scope('linear_1', () => g.linear(g.silu(temb), w.linear('linear_1', D, cfg.tembDim, { bias: true })));
  const ones = g.constant(new Float32Array(D).fill(1), 'float32', [D]);
  const y = g.mul(g.layerNorm(x, ones, null, FINAL_NORM_EPS), g.addScalar(scale, 1));
  return g.scope('linear_2', () => g.linear(y, w.linear('linear_2', cfg.outPatchDim, D, { bias: true })));
}
