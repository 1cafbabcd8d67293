import * as ort from 'onnxruntime-node';
import { encodeModel } from '../onnx/onnx-proto.ts';
import type { TaskContext } from './engine-server.ts';
import { throwIfCancelled } from '../cancellation.ts';

/** The model of the engine check: y = tanh(x·W), W a fixed n×n matrix, so chained runs stay bounded. */
function probeModel(n: number): Uint8Array {
  const w = new Float32Array(n * n);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(i) / Math.sqrt(n);
  return encodeModel({
    irVersion: 10,
    opsets: [{ domain: '', version: 21 }],
    producerName: 'atelier-probe',
    graph: {
      name: 'probe',
      nodes: [
        { name: 'matmul', opType: 'MatMul', domain: '', inputs: ['x', 'w'], outputs: ['xw'], attributes: new Map() },
        { name: 'tanh', opType: 'Tanh', domain: '', inputs: ['xw'], outputs: ['y'], attributes: new Map() },
      ],
      initializers: [
        { name: 'w', dtype: 'float32', dims: [n, n], data: { kind: 'raw', bytes: new Uint8Array(w.buffer) } },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: [n, n] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [n, n] }],
    },
  });
}

export interface ProbeOutcome {
  provider: string;
  runs: number;
  ms: number;
  checksum: number;
}

/**
 * Runs a real ONNX Runtime session in the engine host. It proves the native runtime loads on this machine and,
 * in tests, that inference does not block the caller's event loop.
 */
export async function runProbe(size: number, runs: number, ctx: TaskContext): Promise<ProbeOutcome> {
  const session = await ort.InferenceSession.create(probeModel(size), { executionProviders: ['cpu'] });
  try {
    let x: ort.Tensor = new ort.Tensor('float32', new Float32Array(size * size).fill(1), [size, size]);
    const start = performance.now();
    for (let i = 0; i < runs; i++) {
      throwIfCancelled(ctx.signal);
      const out = await session.run({ x });
      x = out.y!;
      const elapsed = performance.now() - start;
      ctx.progress({ step: i + 1, total: runs, stage: 'probe', etaMs: (elapsed / (i + 1)) * (runs - i - 1) });
    }
    const data = x.data as Float32Array;
    let checksum = 0;
    for (const v of data) checksum += v;
    return { provider: 'cpu', runs, ms: performance.now() - start, checksum };
  } finally {
    await session.release();
  }
}
