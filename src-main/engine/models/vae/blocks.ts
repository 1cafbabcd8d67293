import type { Graph, Value, Weights } from '../../onnx/index.ts';
import { VAE_GROUP_NORM_EPS, type VaeConfig } from './config.ts';

/**
 * How the mid-block attention is emitted (§9.3.7: 1024² has 16 384 latent tokens, a 1 GiB fp32 score matrix
 * when materialised).
 */
export interface VaeAttentionOptions {
  /**
   * `fused`: com.microsoft.MultiHeadAttention (the CPU EP runs fp32 as flash attention and never holds the
   * S×S scores). `explicit`: MatMul → Softmax → MatMul, the reference's own op order, for EPs without it.
   */
  readonly kernel: 'fused' | 'explicit';
  /**
   * Queries are split into this many pieces with bounds ⌊i·S/K⌋ computed in the graph, so one session still
   * serves every size; each piece holds an (S/K)×S score matrix. 1 = no split.
   */
  readonly queryChunks: number;
}

/** A conv whose `weight` `[out, in, k, k]` and `bias` `[out]` sit under `w`. */
function conv(
  g: Graph,
  w: Weights,
  x: Value,
  o: { inp: number; out: number; kernel: number; pads?: readonly number[]; strides?: readonly number[] },
): Value {
  return g.conv(x, w.tensor('weight', [o.out, o.inp, o.kernel, o.kernel]), w.tensor('bias', [o.out]), {
    pads: o.pads,
    strides: o.strides,
  });
}

export function conv3x3(g: Graph, w: Weights, x: Value, inp: number, out: number): Value {
  return conv(g, w, x, { inp, out, kernel: 3, pads: [1, 1, 1, 1] });
}

export function conv1x1(g: Graph, w: Weights, x: Value, inp: number, out: number): Value {
  return conv(g, w, x, { inp, out, kernel: 1 });
}

/**
 * GroupNorm(groups, eps 1e-6, affine) over x `[N, C, H, W]` (§5.2) as Reshape → InstanceNormalization →
 * Reshape → ·γ + β, so GPU EPs keep it (tech-notes.md §1.6).
 */
export function groupNorm(g: Graph, w: Weights, cfg: VaeConfig, x: Value, channels: number): Value {
  const G = cfg.normNumGroups;
  // [N, C, H, W] → [N, G, C/G·H, W]: one group's values become one instance. W is copied (0) rather than
  // folded so that both spatial sizes can stay dynamic with constant reshape targets.
  const grouped = g.reshape(x, [0, G, -1, 0]);
  const unit = g.instanceNorm(
    grouped,
    g.constant(new Float32Array(G).fill(1), 'float32', [G]),
    g.constant(new Float32Array(G), 'float32', [G]),
    VAE_GROUP_NORM_EPS,
  );
  const perChannel = (key: string) => g.reshape(w.tensor(key, [channels]), [channels, 1, 1]);
  return g.add(g.mul(g.reshape(unit, [0, channels, -1, 0]), perChannel('weight')), perChannel('bias'));
}

/** ResnetBlock2D (§5.2): x̂ + conv2(silu(GN(conv1(silu(GN(x)))))), x̂ = 1×1 conv_shortcut(x) when channels change. */
export function resnetBlock(g: Graph, w: Weights, cfg: VaeConfig, x: Value, o: { inp: number; out: number }): Value {
  const h = conv3x3(g, w.scope('conv1'), g.silu(groupNorm(g, w.scope('norm1'), cfg, x, o.inp)), o.inp, o.out);
  const r = conv3x3(g, w.scope('conv2'), g.silu(groupNorm(g, w.scope('norm2'), cfg, h, o.out)), o.out, o.out);
  const skip = o.inp === o.out ? x : conv1x1(g, w.scope('conv_shortcut'), x, o.inp, o.out);
  return g.add(skip, r);
}

/** Downsample2D with padding 0: zero-pad right and bottom by 1 (Conv end pads), 3×3 conv stride 2 (§5.2). */
export function downsample(g: Graph, w: Weights, x: Value, channels: number): Value {
  return conv(g, w.scope('conv'), x, { inp: channels, out: channels, kernel: 3, pads: [0, 0, 1, 1], strides: [2, 2] });
}

/** Upsample2D: nearest ×2 (torch `interpolate`, i.e. asymmetric + floor), then 3×3 conv pad 1 (§5.2, §9.2). */
export function upsample(g: Graph, w: Weights, x: Value, channels: number): Value {
  const up = g.resize(x, [1, 1, 2, 2], {
    mode: 'nearest',
    coordinateTransformationMode: 'asymmetric',
    nearestMode: 'floor',
  });
  return conv3x3(g, w.scope('conv'), up, channels, channels);
}

/**
 * Mid-block attention (§5.2): one head over C channels, tokens = latent pixels.
 * x + reshape(to_out(softmax(q·kᵀ/√C)·v)), q, k, v = linears of GN(x) flattened to `[N, S, C]`.
 */
export function midAttention(
  g: Graph,
  w: Weights,
  cfg: VaeConfig,
  x: Value,
  o: { channels: number; attention: VaeAttentionOptions },
): Value {
  const C = o.channels;
  const normed = groupNorm(g, w.scope('group_norm'), cfg, x, C);
  const tokens = g.transpose(g.reshape(normed, [0, C, -1]), [0, 2, 1]); // [N, S, C]
  const q = g.linear(tokens, w.linear('to_q', C, C, { bias: true }));
  const k = g.linear(tokens, w.linear('to_k', C, C, { bias: true }));
  const v = g.linear(tokens, w.linear('to_v', C, C, { bias: true }));
  const attended = chunkedAttention(g, { q, k, v, channels: C, ...o.attention });
  const out = g.linear(attended, w.linear('to_out.0', C, C, { bias: true })); // [N, S, C]
  const spatial = g.reshapeDynamic(g.transpose(out, [0, 2, 1]), g.shapeOf(x)); // [N, C, H, W]
  return g.add(x, spatial);
}

/** softmax(q·kᵀ/√C)·v, queries in `queryChunks` pieces (each piece sees every key). */
function chunkedAttention(
  g: Graph,
  o: { q: Value; k: Value; v: Value; channels: number } & VaeAttentionOptions,
): Value {
  if (!Number.isInteger(o.queryChunks) || o.queryChunks < 1)
    throw new RangeError(`queryChunks must be a positive integer, got ${o.queryChunks}`);
  const scale = 1 / Math.sqrt(o.channels);
  const fused = o.kernel === 'fused';
  // Explicit: scale q (S×C values) rather than the scores (S×S), and transpose k once for all pieces.
  const q = fused ? o.q : g.mulScalar(o.q, scale);
  const kT = fused ? o.k : g.transpose(o.k, [0, 2, 1]);
  const attend = (qPiece: Value) =>
    fused
      ? g.multiHeadAttention(qPiece, o.k, o.v, { numHeads: 1, scale })
      : g.matMul(g.softmax(g.matMul(qPiece, kT), -1), o.v);
  if (o.queryChunks === 1) return attend(q);
  const K = o.queryChunks;
  const S = g.slice(g.shapeOf(q), { starts: [1], ends: [2], axes: [0] }); // int64 [1]
  const bounds = Array.from({ length: K + 1 }, (_, i) => g.div(g.mul(S, g.int64s([i])), g.int64s([K]))); // ⌊i·S/K⌋
  const pieces = bounds
    .slice(0, K)
    .map((start, i) =>
      g.scope(`query_chunk.${i}`, () => attend(g.sliceDynamic(q, { starts: start, ends: bounds[i + 1]!, axes: [1] }))),
    );
  return g.concat(pieces, 1);
}

/** UNetMidBlock2D with one layer: ResBlock → (attention) → ResBlock, all at C = block_out_channels[-1]. */
export function midBlock(g: Graph, w: Weights, cfg: VaeConfig, x: Value, attention: VaeAttentionOptions): Value {
  const C = cfg.blockOutChannels.at(-1)!;
  const res = (i: number, h: Value) =>
    g.scope(`resnets.${i}`, () => resnetBlock(g, w.scope(`resnets.${i}`), cfg, h, { inp: C, out: C }));
  let h = res(0, x);
  if (cfg.midBlockAddAttention)
    h = g.scope('attentions.0', () => midAttention(g, w.scope('attentions.0'), cfg, h, { channels: C, attention }));
  return res(1, h);
}
