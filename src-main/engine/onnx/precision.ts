import type { ElemType } from './onnx-proto.ts';

/**
 * How a graph computes (issue 9). An explicit argument of every graph factory, never a global switch:
 * - `fp32`: everything in fp32 (CPU default; the golden references are fp32).
 * - `fp16-mixed`: GPU providers. Linears, convolutions and attention take fp16 weights and fp16 activations
 *   (cast at their boundaries); norm statistics, residual sums, modulation, RoPE and everything else stay fp32,
 *   so graph inputs and outputs stay fp32 and callers do not change.
 * - `fp16-pure`: every value fp16 (I/O still fp32). Measured to show what the mixed form protects against
 *   (test/conformance/precision.test.ts); not chosen by the app.
 * - `int8` / `int4`: weight-only quantised linears (com.microsoft.MatMulNBits, blockwise, symmetric) with fp32
 *   activations, for small GPUs and CPU; every other tensor as in fp32.
 */
export type Precision = 'fp32' | 'fp16-mixed' | 'fp16-pure' | 'int8' | 'int4';

export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16-mixed', 'fp16-pure', 'int8', 'int4'];

/** Blockwise weight-only quantisation as MatMulNBits stores it (see weights/quantize.ts). */
export interface QuantSpec {
  readonly bits: 4 | 8;
  /** Weights per scale along the input axis (a power of two ≥ 16). */
  readonly blockSize: number;
  /**
   * MatMulNBits `accuracy_level`: 0 dequantises to fp32 inside the kernel; 4 also quantises the activations to
   * int8 per block (the CPU EP's integer dot-product path: faster, less exact).
   */
  readonly accuracyLevel: 0 | 4;
}

export interface PrecisionPolicy {
  readonly name: Precision;
  /** Type linears, convolutions and attention compute in. */
  readonly matmul: 'float32' | 'float16';
  /** Type of every other value (norm inputs and outputs, residual sums, gates, RoPE). */
  readonly rest: 'float32' | 'float16';
  /** Weight-only quantisation of linear weights, or null. */
  readonly quant: QuantSpec | null;
  /**
   * Scale the rows of linear inputs marked as outlier-prone (the SwiGLU products) into fp16's range before an
   * fp16 matmul (graph-precision.ts float16RowScale). Off only to measure what it prevents.
   */
  readonly outlierScaling: boolean;
}

/**
 * Quantisation layouts chosen by measurement (`npm run bench -- precision`, CPU EP): accuracy level 4 ran int8
 * 1.5–4× faster than level 0 for about 1.3× the output error; int4's error is dominated by the 4-bit grid, where
 * 32-weight blocks cut the weight error by ~10 % for ~11 % more bytes than 64.
 */
const POLICIES: Record<Precision, PrecisionPolicy> = {
  fp32: { name: 'fp32', matmul: 'float32', rest: 'float32', quant: null, outlierScaling: false },
  'fp16-mixed': { name: 'fp16-mixed', matmul: 'float16', rest: 'float32', quant: null, outlierScaling: true },
  'fp16-pure': { name: 'fp16-pure', matmul: 'float16', rest: 'float16', quant: null, outlierScaling: true },
  int8: {
    name: 'int8',
    matmul: 'float32',
    rest: 'float32',
    quant: { bits: 8, blockSize: 64, accuracyLevel: 4 },
    outlierScaling: false,
  },
  int4: {
    name: 'int4',
    matmul: 'float32',
    rest: 'float32',
    quant: { bits: 4, blockSize: 32, accuracyLevel: 4 },
    outlierScaling: false,
  },
};

export function precisionPolicy(p: Precision | PrecisionPolicy = 'fp32'): PrecisionPolicy {
  if (typeof p !== 'string') return p;
  const policy = POLICIES[p];
  if (!policy) throw new RangeError(`unknown precision "${p}" (one of ${PRECISIONS.join(', ')})`);
  return policy;
}

/**
 * A graph's precision. `emulateFloat16` is for measuring on CPU: the CPU EP runs fp16 nodes in fp32 and drops
 * the casts between them (an fp16 Gemm whose output exceeds 65504 still returns the fp32 value — measured), so
 * an fp16 graph on CPU says nothing about fp16 overflow or rounding. Emulated graphs stay fp32 and round every
 * value that would be fp16 on a GPU through an explicit Cast(fp16)→Cast(fp32) pair, which onnxruntime keeps.
 */
export interface GraphPrecision {
  readonly policy: PrecisionPolicy;
  readonly emulateFloat16: boolean;
}

export function graphPrecision(p: Precision | PrecisionPolicy | GraphPrecision | undefined): GraphPrecision {
  if (typeof p === 'object' && 'policy' in p) return p;
  return { policy: precisionPolicy(p), emulateFloat16: false };
}

/** The floating type weights are stored in for `p`: the converted-weight cache's target (weights/weight-cache.ts). */
export function storageType(p: Precision | PrecisionPolicy): 'float32' | 'float16' {
  const policy = precisionPolicy(p);
  return policy.matmul === 'float16' || policy.rest === 'float16' ? 'float16' : 'float32';
}

export function isFloating(t: ElemType): boolean {
  return t === 'float32' || t === 'float16' || t === 'float64' || t === 'bfloat16';
}

export type ModelComponent = 'transformer' | 'mllm' | 'vae';

/**
 * The precision each component runs at when the user asks for `requested` (measured, test/conformance/precision
 * and quantization tests):
 * - the VAE stays fp32: its config asks for it (`force_upcast`), its unnormalised residual feeds convolutions that
 *   no outlier scaling guards, it has no linears worth quantising, and it runs once per image;
 * - the text decoder takes int8 when int4 is asked: int4 moved its last hidden state (the DiT's conditioning)
 *   by 0.27 rel L2 against 0.02 for int8, where the DiT's output moved by 0.11 at int4;
 * - fp16-pure is never chosen (measurement only).
 */
export function componentPrecision(component: ModelComponent, requested: Precision): Precision {
  if (requested === 'fp16-pure') return componentPrecision(component, 'fp16-mixed');
  if (component === 'vae') return 'fp32';
  if (component === 'mllm' && requested === 'int4') return 'int8';
  return requested;
}
