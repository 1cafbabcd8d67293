import { GraphCore, GraphError, MS_DOMAIN, type GraphOptions, type Value } from './graph-core.ts';
import { ONNX_DATA_TYPE, type AttributeValue, type Dim, type ElemType } from './onnx-proto.ts';
import {
  graphPrecision,
  isFloating,
  type GraphPrecision,
  type Precision,
  type PrecisionPolicy,
  type QuantSpec,
} from './precision.ts';
import { expectDim, fmt } from './shapes.ts';

/**
 * A linear whose `[out, in]` weight is blockwise quantised (com.microsoft.MatMulNBits layout, weights/quantize.ts):
 * `packed` uint8 `[out, blocks, blockSize·bits/8]`, `scales` `[out, blocks]`.
 */
export interface QuantizedLinearWeights {
  readonly quantized: {
    readonly packed: Value;
    readonly scales: Value;
    readonly out: number;
    readonly in: number;
    readonly spec: QuantSpec;
  };
  readonly bias: Value | null;
}

export interface GraphBuildOptions extends GraphOptions {
  /** How linears, convolutions and attention compute (precision.ts); default fp32. */
  precision?: Precision | PrecisionPolicy | GraphPrecision;
}

const int = (value: number): AttributeValue => ({ kind: 'int', value });

/**
 * The precision plumbing under `Graph` (precision.ts): graph I/O stays fp32 while values inside take the policy's
 * types. Ops that compute in the matmul type (linear, conv, attention) convert their operands with `lower` and
 * their result with `raise`; under fp16 emulation both are roundings through fp16 that keep fp32.
 */
export class PrecisionGraph extends GraphCore {
  readonly precision: GraphPrecision;
  /** Each value's matmul-type form, so the q/k/v projections of one activation share one conversion. */
  private readonly lowered = new WeakMap<Value, Value>();

  constructor(options: GraphBuildOptions) {
    super(options);
    this.precision = graphPrecision(options.precision);
  }

  /** fp32 graph inputs enter as the policy's `rest` type. */
  override input(name: string, dtype: ElemType, shape: readonly Dim[]): Value {
    const v = super.input(name, dtype, shape);
    return dtype === 'float32' ? this.toType(v, this.precision.policy.rest) : v;
  }

  override output(v: Value, name: string): void {
    super.output(v.dtype === 'float16' && this.precision.policy.rest === 'float16' ? this.cast(v, 'float32') : v, name);
  }

  cast(x: Value, to: ElemType): Value {
    if (x.dtype === to) return x;
    return this.node('Cast', [x], [{ dtype: to, shape: x.shape }], { to: int(ONNX_DATA_TYPE[to]) })[0]!;
  }

  /**
   * com.microsoft.MatMulNBits: x `[…, in]` times the dequantised `[out, in]` weight, transposed, + bias. Default
   * zero point 2^(bits−1) (symmetric codes); scales and bias follow the activation type.
   */
  matMulNBits(x: Value, w: QuantizedLinearWeights): Value {
    const q = w.quantized;
    if (x.shape === null || x.shape.length < 2)
      throw new GraphError(`MatMulNBits: input must have rank ≥ 2 and known rank, got ${fmt(x.shape)}`);
    expectDim('MatMulNBits', `input features of ${fmt(x.shape)} for ${q.packed.name}`, x.shape.at(-1), q.in);
    const a = this.lower(x);
    const attrs = {
      K: int(q.in),
      N: int(q.out),
      bits: int(q.spec.bits),
      block_size: int(q.spec.blockSize),
      accuracy_level: int(q.spec.accuracyLevel),
    };
    // Inputs 3 and 4 (zero points, g_idx) are omitted; input 5 is the bias.
    const inputs = [a, q.packed, this.cast(q.scales, a.dtype), null, null, w.bias && this.cast(w.bias, a.dtype)];
    const y = this.node(
      'MatMulNBits',
      inputs,
      [{ dtype: a.dtype, shape: [...x.shape.slice(0, -1), q.out] }],
      attrs,
      MS_DOMAIN,
    )[0]!;
    return this.raise(y, x.dtype);
  }

  /**
   * `[…, 1]` per-row divisors s = max(max|x_row| / 2¹², 1) for a linear input that may exceed fp16's range (a
   * SwiGLU product, model-notes.md §9.3.2): x/s fits fp16 with headroom for the K-term sums, and
   * W·(x/s)·s = W·x, so only rows that would overflow change at all.
   */
  protected float16RowScale(x: Value): Value {
    const abs = this.node('Abs', [x], [{ dtype: x.dtype, shape: x.shape }])[0]!;
    const shape = x.shape && [...x.shape.slice(0, -1), 1];
    const max = this.node(
      'ReduceMax',
      [abs, this.constant(BigInt64Array.of(-1n), 'int64', [1])],
      [{ dtype: x.dtype, shape }],
      { keepdims: int(1) },
    )[0]!;
    const scaled = this.node(
      'Mul',
      [max, this.constant(Float32Array.of(2 ** -12), 'float32', [])],
      [{ dtype: x.dtype, shape }],
    )[0]!;
    return this.node(
      'Max',
      [scaled, this.constant(Float32Array.of(1), 'float32', [])],
      [{ dtype: x.dtype, shape }],
    )[0]!;
  }

  /** `v` in the policy's matmul type (memoised). */
  protected lower(v: Value): Value {
    let out = this.lowered.get(v);
    if (!out) {
      out = this.toType(v, this.precision.policy.matmul);
      this.lowered.set(v, out);
    }
    return out;
  }

  /** A matmul-type result back in the caller's type `dtype`. */
  protected raise(y: Value, dtype: ElemType): Value {
    return this.precision.emulateFloat16 ? this.toType(y, this.precision.policy.matmul) : this.cast(y, dtype);
  }

  /** Under emulated fp16-pure every floating result is rounded, as a GPU stores it in fp16. */
  protected stored(v: Value, op: string): Value {
    const { emulateFloat16, policy } = this.precision;
    return emulateFloat16 && policy.rest === 'float16' && op !== 'Cast' && isFloating(v.dtype)
      ? this.roundFloat16(v)
      : v;
  }

  private toType(v: Value, t: ElemType): Value {
    if (!isFloating(v.dtype) || v.dtype === 'float64') return v;
    if (!this.precision.emulateFloat16) return this.cast(v, t);
    return t === 'float16' ? this.roundFloat16(v) : v;
  }

  /** Cast(fp16)→Cast(fp32): onnxruntime keeps this explicit pair (it drops only the casts it inserts itself). */
  private roundFloat16(v: Value): Value {
    return this.cast(this.cast(v, 'float16'), 'float32');
  }
}
