import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  Checkpoint,
  Graph,
  OnnxSession,
  Weights,
  componentPrecision,
  f32,
  precisionPolicy,
  storageType,
  type GraphPrecision,
  type Precision,
} from '../../../../src-main/engine/onnx/index.ts';
import { float32ToFloat16 } from '../../../../src-main/engine/weights/dtype.ts';
import { quantizedCheckpointFor } from '../../../../src-main/engine/weights/quant-cache.ts';
import { dequantizeRows, quantizeRows } from '../../../../src-main/engine/weights/quantize.ts';
import { writeSafetensors } from '../../../../src-main/engine/weights/safetensors-writer.ts';
import { expectClose } from '../../../helpers/tensors.ts';

let root: string;
const K = 100,
  N = 5; // K is not a multiple of any block size
const weight = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i * 0.37) * 0.05);
const bias = Float32Array.from({ length: N }, (_, i) => i - 2);
const input = Float32Array.from({ length: 2 * 3 * K }, (_, i) => Math.cos(i * 0.11)); // [2, 3, K]: rank 3

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'atelier-precision-'));
  writeSafetensors(join(root, 'f32.safetensors'), {
    'lin.weight': { dtype: 'F32', shape: [N, K], data: weight },
    'lin.bias': { dtype: 'F32', shape: [N], data: bias },
  });
  writeSafetensors(join(root, 'f16.safetensors'), {
    'lin.weight': { dtype: 'F16', shape: [N, K], data: float32ToFloat16(weight) },
    'lin.bias': { dtype: 'F16', shape: [N], data: float32ToFloat16(bias) },
    'big.weight': { dtype: 'F16', shape: [1, 2], data: float32ToFloat16(Float32Array.of(1, 1)) },
  });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const emulated = (p: Precision, over: Partial<GraphPrecision['policy']> = {}): GraphPrecision => ({
  policy: { ...precisionPolicy(p), ...over },
  emulateFloat16: true,
});

async function run(
  g: Graph,
  feeds: Record<string, Float32Array>,
  dims: Record<string, number[]>,
): Promise<Float32Array> {
  const s = await OnnxSession.create(g.build());
  try {
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, f32(v, dims[k]!)])));
    return out.y!.data as Float32Array;
  } finally {
    await s.release();
  }
}

function linearGraph(
  file: string,
  precision: GraphPrecision | Precision,
  o: { outliers?: boolean; key?: string; dims?: number[] } = {},
): Graph {
  const g = new Graph({ name: 'lin', precision });
  const w = Weights.of(g, Checkpoint.open(join(root, file)), { root });
  const key = o.key ?? 'lin';
  const lw = key === 'lin' ? w.linear('lin', N, K, { bias: true }) : w.linear(key, 1, 2);
  g.output(g.linear(g.input('x', 'float32', o.dims ?? [2, 3, K]), lw, { outliers: o.outliers }), 'y');
  return g;
}

function reference(): Float32Array {
  const y = new Float32Array(6 * N);
  for (let r = 0; r < 6; r++)
    for (let n = 0; n < N; n++) {
      let acc = bias[n]!;
      for (let k = 0; k < K; k++) acc += input[r * K + k]! * weight[n * K + k]!;
      y[r * N + n] = acc;
    }
  return y;
}

describe('precision policies in the graph (onnx/precision.ts)', () => {
  test('fp32 (the default) adds no Cast anywhere', () => {
    const bytes = Buffer.from(linearGraph('f32.safetensors', 'fp32').build().bytes);
    expect(bytes.includes('Cast')).toBe(false);
  });

  test('fp16-mixed: fp16 weights enter the Gemm without a fold; graph I/O stays fp32; result within fp16 rounding', async () => {
    const g = new Graph({ name: 'probe', precision: 'fp16-mixed' });
    const lw = Weights.of(g, Checkpoint.open(join(root, 'f16.safetensors')), { root }).linear('lin', N, K, {
      bias: true,
    });
    expect('weight' in lw && lw.weight.dtype).toBe('float16');
    const y = await run(linearGraph('f16.safetensors', 'fp16-mixed'), { x: input }, { x: [2, 3, K] });
    expectClose(y, reference(), { atol: 2e-3, rtol: 2e-3 }, 'fp16-mixed');
  });

  test('the CPU EP computes an fp16 Gemm in fp32 (no overflow at 80000): why CPU measurements emulate', async () => {
    const x = { x: Float32Array.of(40000, 40000) },
      dims = { x: [1, 2] };
    expect(await run(linearGraph('f16.safetensors', 'fp16-mixed', { key: 'big', dims: [1, 2] }), x, dims)).toEqual(
      Float32Array.of(80000),
    );
    expect(
      await run(linearGraph('f16.safetensors', emulated('fp16-mixed'), { key: 'big', dims: [1, 2] }), x, dims),
    ).toEqual(Float32Array.of(Infinity));
  });

  test('outlier scaling keeps an out-of-range linear input finite and exact (98304 enters the fp16 Gemm as 4096)', async () => {
    const x = { x: Float32Array.of(98304, 98304) },
      dims = { x: [1, 2] };
    const scaled = linearGraph('f16.safetensors', emulated('fp16-mixed'), { key: 'big', dims: [1, 2], outliers: true });
    expect(await run(scaled, x, dims)).toEqual(Float32Array.of(196608));
    const unscaled = linearGraph('f16.safetensors', emulated('fp16-mixed', { outlierScaling: false }), {
      key: 'big',
      dims: [1, 2],
      outliers: true,
    });
    expect(await run(unscaled, x, dims)).toEqual(Float32Array.of(Infinity));
  });

  test('emulated fp16-pure rounds every intermediate: a sum past 65504 overflows, as on a GPU', async () => {
    const build = (precision: GraphPrecision | Precision) => {
      const g = new Graph({ name: 'sum', precision });
      const x = g.input('x', 'float32', [2]);
      g.output(g.sub(g.add(x, x), x), 'y');
      return g;
    };
    expect(await run(build(emulated('fp16-pure')), { x: Float32Array.of(40000, 1) }, { x: [2] })).toEqual(
      Float32Array.of(Infinity, 1),
    );
    expect(await run(build(emulated('fp16-mixed')), { x: Float32Array.of(40000, 1) }, { x: [2] })).toEqual(
      Float32Array.of(40000, 1),
    );
    expect(await run(build('fp16-pure'), { x: Float32Array.of(3, 1) }, { x: [2] })).toEqual(Float32Array.of(3, 1)); // real fp16 I/O converts
  });

  test('fp16 attention clips a float32-lowest mask bias (as fp16 it would be −∞)', async () => {
    const g = new Graph({ name: 'mha', precision: 'fp16-mixed' });
    const q = g.input('x', 'float32', [1, 2, 4]);
    const biasIn = g.unsqueeze(g.input('b', 'float32', [2, 2]), [0, 1]);
    g.output(g.multiHeadAttention(q, q, q, { numHeads: 1, attentionBias: biasIn }), 'y');
    const y = await run(
      g,
      { x: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), b: Float32Array.of(0, -3.4028234663852886e38, 0, 0) },
      { x: [1, 2, 4], b: [2, 2] },
    );
    expect(Array.from(y.subarray(0, 4))).toEqual([1, 2, 3, 4]); // row 0 sees only key 0
    expect(y.every(Number.isFinite)).toBe(true);
  });
});

describe('MatMulNBits linears (weight-only quantisation)', () => {
  test.each([
    [8, 64, 0],
    [4, 32, 0],
    [4, 64, 0],
    [8, 64, 4],
    [4, 32, 4],
  ] as const)(
    '%i-bit, block %i, accuracy level %i: equals fp32 with the dequantised weight',
    async (bits, blockSize, accuracyLevel) => {
      const precision: GraphPrecision = {
        policy: { ...precisionPolicy('int4'), quant: { bits, blockSize, accuracyLevel } },
        emulateFloat16: false,
      };
      const q = await quantizedCheckpointFor(Checkpoint.open(join(root, 'f32.safetensors')), {
        modelRoot: root,
        component: 'lin',
        layout: { bits, blockSize },
        select: (k) => k === 'lin.weight',
      });
      const g = new Graph({ name: 'q', precision });
      const w = Weights.of(g, Checkpoint.open(join(root, 'f32.safetensors')), {
        root,
        quantized: { checkpoint: q.checkpoint, spec: precision.policy.quant! },
      });
      const lw = w.linear('lin', N, K, { bias: true });
      expect('quantized' in lw).toBe(true);
      g.output(g.linear(g.input('x', 'float32', [2, 3, K]), lw), 'y');
      expect(Buffer.from(g.build().bytes).includes('MatMulNBits')).toBe(true);
      const y = await run(g, { x: input }, { x: [2, 3, K] });
      // the same product with the dequantised weight, in float64
      const deq = dequantizeRows(quantizeRows(weight, N, K, { bits, blockSize }), N, K, { bits, blockSize });
      const want = new Float32Array(6 * N);
      for (let r = 0; r < 6; r++)
        for (let n = 0; n < N; n++) {
          let acc = bias[n]!;
          for (let k = 0; k < K; k++) acc += input[r * K + k]! * deq[n * K + k]!;
          want[r * N + n] = acc;
        }
      // level 0 dequantises exactly; level 4 also rounds the activations to int8 per block (≈ 1/127 of each block's max)
      expectClose(
        y,
        want,
        accuracyLevel === 0 ? { atol: 1e-5 } : { atol: 2e-2 },
        `int${bits} b${blockSize} acc${accuracyLevel}`,
      );
    },
  );
});

describe('per-component precision (measured choices)', () => {
  test('the VAE stays fp32, the text decoder takes int8 for int4, fp16-pure is never chosen', () => {
    expect(componentPrecision('transformer', 'int4')).toBe('int4');
    expect(componentPrecision('transformer', 'fp16-pure')).toBe('fp16-mixed');
    expect(componentPrecision('mllm', 'int4')).toBe('int8');
    expect(componentPrecision('mllm', 'fp16-mixed')).toBe('fp16-mixed');
    for (const p of ['fp32', 'fp16-mixed', 'int8', 'int4'] as const) expect(componentPrecision('vae', p)).toBe('fp32');
  });

  test('storage: fp16 precisions read the fp16 cache, the others fp32', () => {
    expect(storageType('fp16-mixed')).toBe('float16');
    expect(storageType('int4')).toBe('float32');
    expect(() => precisionPolicy('fp8' as Precision)).toThrow(/unknown precision/);
  });
});
