import { float32ToFloat16 } from '../weights/dtype.ts';
import { GraphError, MS_DOMAIN, type Value } from './graph-core.ts';
import { PrecisionGraph, type QuantizedLinearWeights } from './graph-precision.ts';
import type { AttributeValue, Dim, ElemType } from './onnx-proto.ts';
import { axisOf, broadcast, concatShape, expectDim, fmt, reshapeShape, type Shape } from './shapes.ts';

/** y = x·Wᵀ + b with W kept `[out, in]` as checkpoints store it. */
export interface LinearWeights {
  readonly weight: Value;
  readonly bias: Value | null;
}

/** A fixed-length tuple of values, so `const [a, b] = g.split(x, 2, -1)` is typed. */
export type Tuple<N extends number, R extends Value[] = []> = R['length'] extends N ? R : Tuple<N, [...R, Value]>;

const int = (value: number): AttributeValue => ({ kind: 'int', value });
const float = (value: number): AttributeValue => ({ kind: 'float', value });
const ints = (value: readonly number[]): AttributeValue => ({ kind: 'ints', value });

/**
 * The op vocabulary model code uses: one typed method per op (no string dispatch), each checking
 * what it cheaply can (ranks, known sizes, broadcasting) so a wrong graph fails where it is built.
 * Ops follow the ONNX opset the graph declares (23 by default) plus `com.microsoft` contrib ops.
 */
export class Graph extends PrecisionGraph {
  // ── element-wise ──────────────────────────────────────────────────────────────
  add(a: Value, b: Value): Value {
    return this.binary('Add', a, b);
  }
  sub(a: Value, b: Value): Value {
    return this.binary('Sub', a, b);
  }
  mul(a: Value, b: Value): Value {
    return this.binary('Mul', a, b);
  }
  div(a: Value, b: Value): Value {
    return this.binary('Div', a, b);
  }
  pow(a: Value, b: Value): Value {
    return this.binary('Pow', a, b);
  }
  neg(x: Value): Value {
    return this.unary('Neg', x);
  }
  tanh(x: Value): Value {
    return this.unary('Tanh', x);
  }
  sigmoid(x: Value): Value {
    return this.unary('Sigmoid', x);
  }
  exp(x: Value): Value {
    return this.unary('Exp', x);
  }
  sqrt(x: Value): Value {
    return this.unary('Sqrt', x);
  }
  erf(x: Value): Value {
    return this.unary('Erf', x);
  }
  reciprocal(x: Value): Value {
    return this.unary('Reciprocal', x);
  }
  /** silu(x) = x·sigmoid(x). */
  silu(x: Value): Value {
    return this.mul(x, this.sigmoid(x));
  }
  addScalar(x: Value, s: number): Value {
    return this.add(x, this.scalar(s, x.dtype));
  }
  mulScalar(x: Value, s: number): Value {
    return this.mul(x, this.scalar(s, x.dtype));
  }

  /** A scalar constant of a floating type (deduplicated). */
  scalar(s: number, dtype: ElemType = 'float32'): Value {
    if (dtype === 'float32') return this.constant(Float32Array.of(s), dtype, []);
    if (dtype === 'float16') return this.constant(float32ToFloat16(Float32Array.of(s)), dtype, []);
    if (dtype === 'float64') return this.constant(Float64Array.of(s), dtype, []);
    throw new GraphError(`scalar: ${dtype} is not a floating type`);
  }

  int64s(values: readonly number[]): Value {
    return this.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      'int64',
      [values.length],
    );
  }

  // ── linear algebra ────────────────────────────────────────────────────────────
  matMul(a: Value, b: Value): Value {
    let shape: Shape = null;
    if (a.shape && b.shape && a.shape.length >= 2 && b.shape.length >= 2) {
      expectDim('MatMul', `inner dim of ${fmt(a.shape)} · ${fmt(b.shape)}`, a.shape.at(-1), b.shape.at(-2) ?? null);
      const batch = broadcast('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
      shape = batch && [...batch, a.shape.at(-2) ?? null, b.shape.at(-1) ?? null];
    }
    return this.one('MatMul', [a, b], a.dtype, shape);
  }

  /** Gemm on 2-D operands: alpha·A·op(B) + beta·C. */
  gemm(a: Value, b: Value, o: { c?: Value; transB?: boolean; alpha?: number; beta?: number } = {}): Value {
    if (a.shape?.length !== 2 || b.shape?.length !== 2)
      throw new GraphError(`Gemm needs 2-D operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
    const [k, n] = o.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    expectDim('Gemm', `inner dim of ${fmt(a.shape)} · ${o.transB ? 'transposed ' : ''}${fmt(b.shape)}`, a.shape[1], k);
    const attrs: Record<string, AttributeValue> = {};
    if (o.transB) attrs.transB = int(1);
    if (o.alpha !== undefined) attrs.alpha = float(o.alpha);
    if (o.beta !== undefined) attrs.beta = float(o.beta);
    return this.one('Gemm', [a, b, o.c ?? null], a.dtype, [a.shape[0]!, n], attrs);
  }

  /**
   * x·Wᵀ + b over the last axis; x may have any rank ≥ 2 (rank > 2 is flattened around a Gemm). Computes in the
   * precision's matmul type and returns x's type; a quantised weight becomes one MatMulNBits node. `outliers`: x
   * may exceed fp16's range, so under fp16 matmuls its rows are scaled into range first (float16RowScale).
   */
  linear(x: Value, w: LinearWeights | QuantizedLinearWeights, o: { outliers?: boolean } = {}): Value {
    if ('quantized' in w) return this.matMulNBits(x, w);
    if (
      o.outliers &&
      this.precision.policy.outlierScaling &&
      this.precision.policy.matmul === 'float16' &&
      x.dtype === 'float32'
    ) {
      const s = this.float16RowScale(x);
      const y = this.mul(this.linear(this.div(x, s), { weight: w.weight, bias: null }), s);
      return w.bias ? this.add(y, this.cast(w.bias, y.dtype)) : y;
    }
    const ws = w.weight.shape;
    if (ws?.length !== 2) throw new GraphError(`linear: weight ${w.weight.name} must be [out, in], got ${fmt(ws)}`);
    if (x.shape === null || x.shape.length < 2)
      throw new GraphError(`linear: input must have rank ≥ 2 and known rank, got ${fmt(x.shape)}`);
    expectDim(
      'linear',
      `input features of ${fmt(x.shape)} for weight ${w.weight.name} ${fmt(ws)}`,
      x.shape.at(-1),
      ws[1]!,
    );
    const gemm = (x2: Value) =>
      this.gemm(x2, this.lower(w.weight), { c: w.bias ? this.lower(w.bias) : undefined, transB: true });
    if (x.shape.length === 2) return this.raise(gemm(this.lower(x)), x.dtype);
    const [out, inp] = ws;
    if (typeof out !== 'number' || typeof inp !== 'number')
      throw new GraphError(`linear: weight ${w.weight.name} needs a static shape, got ${fmt(ws)}`);
    return this.raise(this.restoreLead(x, gemm(this.reshape(this.lower(x), [-1, inp])), out), x.dtype);
  }

  /** y `[rows, out]` back to x's leading dims `[…, out]`. */
  private restoreLead(x: Value, y: Value, out: number): Value {
    const rank = x.shape!.length;
    const lead = this.slice(this.shapeOf(x), { starts: [0], ends: [rank - 1], axes: [0] });
    return this.one('Reshape', [y, this.concat([lead, this.int64s([out])], 0)], y.dtype, [
      ...x.shape!.slice(0, -1),
      out,
    ]);
  }

  // ── shapes ────────────────────────────────────────────────────────────────────
  /** Reshape to a constant target (0 copies the input dim, -1 is inferred). */
  reshape(x: Value, target: readonly number[]): Value {
    return this.one('Reshape', [x, this.int64s(target)], x.dtype, reshapeShape('Reshape', x.shape, target));
  }

  shapeOf(x: Value): Value {
    return this.one('Shape', [x], 'int64', [x.shape?.length ?? null]);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    if (x.shape && x.shape.length !== perm.length)
      throw new GraphError(`Transpose: perm [${perm.join(',')}] does not fit ${fmt(x.shape)}`);
    const shape = x.shape && perm.map((p) => x.shape![p] ?? null);
    return this.one('Transpose', [x], x.dtype, shape, { perm: ints(perm) });
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    let shape: Dim[] | null = null;
    if (x.shape) {
      const rank = x.shape.length + axes.length;
      const at = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const rest = [...x.shape];
      shape = Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : (rest.shift() ?? null)));
    }
    return this.one('Unsqueeze', [x, this.int64s(axes)], x.dtype, shape);
  }

  squeeze(x: Value, axes: readonly number[]): Value {
    const drop = new Set(axes.map((a) => axisOf(a, x.shape, 'Squeeze')));
    for (const a of drop) expectDim('Squeeze', `dim ${a} of ${fmt(x.shape)}`, x.shape?.[a], 1);
    return this.one('Squeeze', [x, this.int64s(axes)], x.dtype, x.shape && x.shape.filter((_, i) => !drop.has(i)));
  }

  concat(xs: readonly Value[], axis: number): Value {
    if (xs.length === 1) return xs[0]!;
    const dtype = xs[0]?.dtype ?? 'float32';
    for (const x of xs)
      if (x.dtype !== dtype) throw new GraphError(`Concat: dtypes differ (${xs.map((v) => v.dtype).join(', ')})`);
    return this.one(
      'Concat',
      xs,
      dtype,
      concatShape(
        'Concat',
        xs.map((x) => x.shape),
        axis,
      ),
      { axis: int(axis) },
    );
  }

  /** Equal split into `parts` pieces along `axis`. */
  split<N extends number>(x: Value, parts: N, axis: number): Tuple<N> {
    const a = axisOf(axis, x.shape, 'Split');
    const d = x.shape?.[a];
    if (typeof d === 'number' && d % parts !== 0)
      throw new GraphError(`Split: dim ${a} of ${fmt(x.shape)} is not divisible by ${parts}`);
    const piece = x.shape && x.shape.map((v, i) => (i !== a ? v : typeof v === 'number' ? v / parts : null));
    const outs = this.node(
      'Split',
      [x],
      Array.from({ length: parts }, () => ({ dtype: x.dtype, shape: piece })),
      { axis: int(axis), num_outputs: int(parts) },
    );
    return outs as Tuple<N>;
  }

  /** Split into pieces of the given sizes along `axis`. */
  splitSizes(x: Value, sizes: readonly number[], axis: number): Value[] {
    const a = axisOf(axis, x.shape, 'Split');
    expectDim(
      'Split',
      `dim ${a} of ${fmt(x.shape)} (sizes ${sizes.join('+')})`,
      x.shape?.[a],
      sizes.reduce((p, s) => p + s, 0),
    );
    const outs = sizes.map((s) => ({ dtype: x.dtype, shape: x.shape && x.shape.map((v, i) => (i === a ? s : v)) }));
    return this.node('Split', [x, this.int64s(sizes)], outs, { axis: int(axis) });
  }

  /** Constant-bound slice; `ends` beyond the size clamp as in ONNX. */
  slice(
    x: Value,
    o: { starts: readonly number[]; ends: readonly number[]; axes: readonly number[]; steps?: readonly number[] },
  ): Value {
    const shape = x.shape && [...x.shape];
    o.axes.forEach((axis, i) => {
      if (!shape) return;
      const a = axisOf(axis, shape, 'Slice');
      const d = shape[a];
      const step = o.steps?.[i] ?? 1;
      if (typeof d !== 'number' || step !== 1) {
        shape[a] = null;
        return;
      }
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      shape[a] = Math.max(clamp(o.ends[i]!) - clamp(o.starts[i]!), 0);
    });
    const steps = o.steps ? this.int64s(o.steps) : null;
    return this.one(
      'Slice',
      [x, this.int64s(o.starts), this.int64s(o.ends), this.int64s(o.axes), steps],
      x.dtype,
      shape,
    );
  }

  /** Slice with bounds computed in the graph (int64 `[k]` values), for runs whose length is only known at run time. */
  sliceDynamic(x: Value, o: { starts: Value; ends: Value; axes: readonly number[] }): Value {
    const cut = new Set(o.axes.map((a) => axisOf(a, x.shape, 'Slice')));
    return this.one(
      'Slice',
      [x, o.starts, o.ends, this.int64s(o.axes)],
      x.dtype,
      x.shape && x.shape.map((d, i) => (cut.has(i) ? null : d)),
    );
  }

  gather(x: Value, indices: Value, axis: number): Value {
    const a = axisOf(axis, x.shape, 'Gather');
    const shape = x.shape && indices.shape && [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
    return this.one('Gather', [x, indices], x.dtype, shape, { axis: int(axis) });
  }

  /** Broadcast to a constant shape (numpy rules: 1s in `shape` keep the input's size). */
  expand(x: Value, shape: readonly number[]): Value {
    return this.one('Expand', [x, this.int64s(shape)], x.dtype, broadcast('Expand', x.shape, shape));
  }

  where(cond: Value, a: Value, b: Value): Value {
    return this.one(
      'Where',
      [cond, a, b],
      a.dtype,
      broadcast('Where', cond.shape, broadcast('Where', a.shape, b.shape)),
    );
  }

  // ── normalisation and reductions ──────────────────────────────────────────────
  /** RMSNorm over the last axis with statistics in fp32 (opset-23 RMSNormalization). */
  rmsNorm(x: Value, scale: Value, eps: number): Value {
    expectDim(
      'RMSNormalization',
      `size of scale ${scale.name} ${fmt(scale.shape)} vs input ${fmt(x.shape)}`,
      scale.shape?.at(-1),
      x.shape?.at(-1) ?? null,
    );
    return this.one('RMSNormalization', [x, this.cast(scale, x.dtype)], x.dtype, x.shape, {
      axis: int(-1),
      epsilon: float(eps),
      stash_type: int(1),
    });
  }

  /** LayerNorm over the last axis; `scale` is required by ONNX (pass ones for no affine). */
  layerNorm(x: Value, scale: Value, bias: Value | null, eps: number): Value {
    expectDim(
      'LayerNormalization',
      `size of scale ${scale.name} vs input ${fmt(x.shape)}`,
      scale.shape?.at(-1),
      x.shape?.at(-1) ?? null,
    );
    return this.one(
      'LayerNormalization',
      [x, this.cast(scale, x.dtype), bias && this.cast(bias, x.dtype)],
      x.dtype,
      x.shape,
      { axis: int(-1), epsilon: float(eps), stash_type: int(1) },
    );
  }

  softmax(x: Value, axis: number): Value {
    return this.one('Softmax', [x], x.dtype, x.shape, { axis: int(axis) });
  }

  reduceMean(x: Value, axes: readonly number[], keepDims: boolean): Value {
    const at = new Set(axes.map((a) => axisOf(a, x.shape, 'ReduceMean')));
    const shape = x.shape && x.shape.flatMap((d, i) => (!at.has(i) ? [d] : keepDims ? [1] : []));
    return this.one('ReduceMean', [x, this.int64s(axes)], x.dtype, shape, { keepdims: int(keepDims ? 1 : 0) });
  }

  // ── attention ─────────────────────────────────────────────────────────────────
  /**
   * Rotary embedding (opset 23) on x `[B, S, heads·headDim]` with per-token tables cos/sin
   * `[B, S, headDim/2]`. `interleaved` rotates pairs (2j, 2j+1); otherwise halves (j, j+headDim/2).
   */
  rotaryEmbedding(x: Value, cos: Value, sin: Value, o: { numHeads: number; interleaved: boolean }): Value {
    if (x.shape?.length !== 3)
      throw new GraphError(`RotaryEmbedding: input must be [B, S, hidden], got ${fmt(x.shape)}`);
    const hidden = x.shape[2];
    if (typeof hidden === 'number')
      expectDim('RotaryEmbedding', `cos table width ${fmt(cos.shape)}`, cos.shape?.at(-1), hidden / o.numHeads / 2);
    return this.one('RotaryEmbedding', [x, cos, sin], x.dtype, x.shape, {
      interleaved: int(o.interleaved ? 1 : 0),
      num_heads: int(o.numHeads),
    });
  }

  /**
   * Attention (com.microsoft.MultiHeadAttention): q `[B, S, heads·d]`, k/v `[B, S_kv, heads·d]`,
   * softmax(q·kᵀ·scale + bias)·v per head; scale defaults to 1/√d. Non-causal unless `attentionBias`
   * (additive, `[B or 1, heads or 1, S, S_kv]`) masks keys, e.g. a causal mask. Runs in the precision's matmul
   * type (the kernel keeps the softmax statistics in fp32) and returns q's type.
   */
  multiHeadAttention(
    q: Value,
    k: Value,
    v: Value,
    o: { numHeads: number; scale?: number; attentionBias?: Value },
  ): Value {
    if (q.shape?.length !== 3)
      throw new GraphError(`MultiHeadAttention: query must be [B, S, hidden], got ${fmt(q.shape)}`);
    expectDim(
      'MultiHeadAttention',
      `key width ${fmt(k.shape)} vs query ${fmt(q.shape)}`,
      k.shape?.[2],
      q.shape[2] ?? null,
    );
    if (o.attentionBias && o.attentionBias.shape?.length !== 4)
      throw new GraphError(
        `MultiHeadAttention: attention bias must be [B, heads, S, S_kv], got ${fmt(o.attentionBias.shape)}`,
      );
    const attrs: Record<string, AttributeValue> = { num_heads: int(o.numHeads) };
    if (o.scale !== undefined) attrs.scale = float(o.scale);
    // Inputs 3 and 4 (packed bias, key padding mask) are unused; input 5 is attention_bias. A masking bias of
    // float32's lowest is clipped first: as fp16 it would be −∞, and a fully masked row would turn into NaN.
    const [ql, kl, vl] = [this.lower(q), this.lower(k), this.lower(v)];
    const bias =
      o.attentionBias &&
      (ql.dtype === o.attentionBias.dtype ? o.attentionBias : this.lower(this.clip(o.attentionBias, -65504, 65504)));
    const inputs = bias ? [ql, kl, vl, null, null, bias] : [ql, kl, vl];
    return this.raise(
      this.one(
        'MultiHeadAttention',
        inputs,
        ql.dtype,
        [q.shape[0] ?? null, q.shape[1] ?? null, v.shape?.[2] ?? null],
        attrs,
        MS_DOMAIN,
      ),
      q.dtype,
    );
  }

  /**
   * Grouped-query K/V `[B, S, kvHeads·d]` → `[B, S, kvHeads·groups·d]` by repeat-interleave
   * (kv head h serves query heads h·groups … h·groups+groups−1; never tile).
   */
  repeatKvHeads(x: Value, o: { kvHeads: number; groups: number; headDim: number }): Value {
    if (o.groups === 1) return x;
    const perHead = this.reshape(x, [0, 0, o.kvHeads, 1, o.headDim]);
    const repeated = this.expand(perHead, [1, 1, 1, o.groups, 1]);
    return this.reshape(repeated, [0, 0, o.kvHeads * o.groups * o.headDim]);
  }

  // ── convolution ───────────────────────────────────────────────────────────────
  /** N-D convolution, x `[N, C, …]`, w `[M, C/group, k…]`; computes in the precision's matmul type, returns x's type. */
  conv(
    x: Value,
    w: Value,
    b: Value | null,
    o: { pads?: readonly number[]; strides?: readonly number[]; dilations?: readonly number[]; group?: number } = {},
  ): Value {
    const attrs: Record<string, AttributeValue> = {};
    if (o.pads) attrs.pads = ints(o.pads);
    if (o.strides) attrs.strides = ints(o.strides);
    if (o.dilations) attrs.dilations = ints(o.dilations);
    if (o.group !== undefined) attrs.group = int(o.group);
    let shape: Shape = null;
    if (x.shape && w.shape && x.shape.length === w.shape.length) {
      const spatial = x.shape.length - 2;
      expectDim(
        'Conv',
        `input channels of ${fmt(x.shape)} for weight ${w.name} ${fmt(w.shape)}`,
        x.shape[1],
        typeof w.shape[1] === 'number' ? w.shape[1] * (o.group ?? 1) : null,
      );
      shape = [
        x.shape[0] ?? null,
        w.shape[0] ?? null,
        ...Array.from({ length: spatial }, (_, i) => {
          const d = x.shape![2 + i];
          const k = w.shape![2 + i];
          if (typeof d !== 'number' || typeof k !== 'number') return null;
          const pad = (o.pads?.[i] ?? 0) + (o.pads?.[i + spatial] ?? 0);
          return Math.floor((d + pad - (o.dilations?.[i] ?? 1) * (k - 1) - 1) / (o.strides?.[i] ?? 1)) + 1;
        }),
      ];
    }
    return this.raise(
      this.one('Conv', [this.lower(x), this.lower(w), b && this.lower(b)], this.lower(x).dtype, shape, attrs),
      x.dtype,
    );
  }

  // ── image ops (VAE) ───────────────────────────────────────────────────────────
  /**
   * InstanceNormalization: per (n, c), normalise over all remaining axes; scale/bias `[C]`. Reshaping to
   * `[N, G, …]` around it gives a GroupNorm that GPU EPs run (opset-21 GroupNormalization falls back to CPU
   * on WebGPU, tech-notes.md §1.6).
   */
  instanceNorm(x: Value, scale: Value, bias: Value, eps: number): Value {
    expectDim(
      'InstanceNormalization',
      `size of scale ${scale.name} ${fmt(scale.shape)} vs channels of ${fmt(x.shape)}`,
      scale.shape?.[0],
      x.shape?.[1] ?? null,
    );
    return this.one(
      'InstanceNormalization',
      [x, this.cast(scale, x.dtype), this.cast(bias, x.dtype)],
      x.dtype,
      x.shape,
      { epsilon: float(eps) },
    );
  }

  /** Resize by constant per-axis scales. Nearest with `asymmetric` + `floor` is torch's `interpolate(mode='nearest')`. */
  resize(
    x: Value,
    scales: readonly number[],
    o: {
      mode: 'nearest' | 'linear' | 'cubic';
      coordinateTransformationMode?: 'half_pixel' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric';
      nearestMode?: 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';
    },
  ): Value {
    if (x.shape && x.shape.length !== scales.length)
      throw new GraphError(`Resize: ${scales.length} scales do not fit ${fmt(x.shape)}`);
    const attrs: Record<string, AttributeValue> = { mode: { kind: 'string', value: o.mode } };
    if (o.coordinateTransformationMode)
      attrs.coordinate_transformation_mode = { kind: 'string', value: o.coordinateTransformationMode };
    if (o.nearestMode) attrs.nearest_mode = { kind: 'string', value: o.nearestMode };
    const shape =
      x.shape &&
      x.shape.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]!) : scales[i] === 1 ? d : null));
    return this.one(
      'Resize',
      [x, null, this.constant(Float32Array.from(scales), 'float32', [scales.length])],
      x.dtype,
      shape,
      attrs,
    );
  }

  /** Clamps to [min, max]. */
  clip(x: Value, min: number, max: number): Value {
    return this.one('Clip', [x, this.scalar(min, x.dtype), this.scalar(max, x.dtype)], x.dtype, x.shape);
  }

  /** Reshape to a target computed in the graph (int64 `[rank]`), e.g. `shapeOf(y)` when y's sizes are dynamic. */
  reshapeDynamic(x: Value, target: Value): Value {
    const rank = target.shape?.[0];
    return this.one(
      'Reshape',
      [x, target],
      x.dtype,
      typeof rank === 'number' ? Array.from({ length: rank }, () => null) : null,
    );
  }

  // ── helpers ───────────────────────────────────────────────────────────────────
  private one(
    op: string,
    inputs: readonly (Value | null)[],
    dtype: ElemType,
    shape: Shape,
    attrs: Record<string, AttributeValue> = {},
    domain = '',
  ): Value {
    return this.stored(this.node(op, inputs, [{ dtype, shape }], attrs, domain)[0]!, op);
  }

  private unary(op: string, x: Value): Value {
    return this.one(op, [x], x.dtype, x.shape);
  }

  private binary(op: string, a: Value, b: Value): Value {
    if (a.dtype !== b.dtype)
      throw new GraphError(`${op}: dtypes differ (${a.name}: ${a.dtype}, ${b.name}: ${b.dtype})`);
    return this.one(op, [a, b], a.dtype, broadcast(op, a.shape, b.shape));
  }
}
