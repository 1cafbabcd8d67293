// Weight-only quantisation (issue 9): int8 and int4 DiT and Qwen text graphs (com.microsoft.MatMulNBits over the
// quantised-weight cache) against fp32 on the same seeded inputs, golden tiny and mid-size synthetic models.
// Bounds are the measured worst (`npm run bench -- precision --only quant`) with a ≥ 2.5× margin; int4's are wide
// because round-to-nearest 4-bit weights carry ~9 % relative error each (random weights have no slack to hide it).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  copyComponent,
  deviation,
  ditForward,
  measured,
  qwenForward,
  type Measured,
} from '../../scripts/bench/_precision.ts';
import { MID_DIT_CONFIG, MID_QWEN_CONFIG, writeSyntheticComponent } from '../../scripts/bench/_synthetic-models.ts';
import { DIT_QUANTIZED_WEIGHTS } from '../../src-main/engine/models/dit.ts';
import { QWEN_QUANTIZED_WEIGHTS } from '../../src-main/engine/models/qwen-text.ts';
import { Checkpoint, type GraphPrecision, type Precision } from '../../src-main/engine/onnx/index.ts';
import { weightsForPrecision } from '../../src-main/engine/weights/precision-weights.ts';
import { goldenDir } from '../helpers/golden.ts';

const tmp = mkdtempSync(join(tmpdir(), 'atelier-quant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const golden = goldenDir();

interface Case {
  label: string;
  run: (p: GraphPrecision) => Promise<Measured>;
  source: () => Checkpoint;
  root: string;
  component: string;
  select: (key: string) => boolean;
  /** rel L2 bounds of the first output (velocity / last hidden state). Measured: int8, int4. */
  bound: Record<'int8' | 'int4', number>;
}

const ditCase = (label: string, root: string, w: Parameters<typeof ditForward>[2], bound: Case['bound']): Case => ({
  label,
  root,
  bound,
  component: 'transformer',
  select: DIT_QUANTIZED_WEIGHTS,
  source: () => Checkpoint.open(join(root, 'transformer'), 'diffusion_pytorch_model'),
  run: (p) => ditForward(root, p, w),
});
const qwenCase = (label: string, dir: string, bound: Case['bound']): Case => ({
  label,
  root: dir,
  bound,
  component: 'mllm',
  select: QWEN_QUANTIZED_WEIGHTS,
  source: () => Checkpoint.open(dir, 'model'),
  run: (p) => qwenForward(dir, p, 48),
});

copyComponent(join(golden, 'transformer'), join(tmp, 'dit-tiny'), 'transformer', [
  'config.json',
  'diffusion_pytorch_model.safetensors',
]);
writeSyntheticComponent(join(tmp, 'dit-mid'), 'transformer', MID_DIT_CONFIG);
const cases: Case[] = [
  // measured rel L2: int8 5.4e-3, int4 5.3e-2
  ditCase(
    'DiT, golden tiny',
    join(tmp, 'dit-tiny'),
    { textTokens: 12, latent: [16, 12], ref: [8, 8] },
    { int8: 2e-2, int4: 0.15 },
  ),
  // measured: int8 1.1e-2, int4 1.1e-1
  ditCase(
    'DiT, mid synthetic (D 640)',
    join(tmp, 'dit-mid'),
    { textTokens: 64, latent: [32, 32], ref: [16, 16] },
    { int8: 3e-2, int4: 0.3 },
  ),
  // measured: int8 2.1e-2, int4 2.6e-1
  qwenCase(
    'Qwen text, golden tiny',
    copyComponent(join(golden, 'mllm'), join(tmp, 'qwen-tiny'), 'mllm', ['config.json', 'model.safetensors']),
    { int8: 6e-2, int4: 0.65 },
  ),
  // measured: int8 2.4e-2, int4 2.7e-1
  qwenCase(
    'Qwen text, mid synthetic (D 512)',
    writeSyntheticComponent(join(tmp, 'qwen-mid'), 'mllm', MID_QWEN_CONFIG),
    { int8: 6e-2, int4: 0.65 },
  ),
];

describe.each(cases)('weight-only quantisation vs fp32: $label', (c) => {
  test.each(['int8', 'int4'] as const)(
    '%s: within the bound; codes + scales at ≤ 27 % (int8) / 16 % (int4) of fp32 bytes',
    async (name: Precision & ('int8' | 'int4')) => {
      const ref = await c.run(measured('fp32'));
      const q = await c.run(measured(name));
      const d = deviation(q.outputs[0]!, ref.outputs[0]!);
      expect(d.nonFinite).toBe(0);
      expect(d.relL2).toBeLessThan(c.bound[name]);
      // the cache the run used: every selected linear quantised, at the expected size
      const w = await weightsForPrecision(c.source(), {
        modelRoot: c.root,
        component: c.component,
        precision: name,
        quantize: (k) => c.select(k),
        convert: 'cast',
      });
      expect(existsSync(join(c.root, '.atelier-cache'))).toBe(true);
      expect(w.quantizedTensors.length).toBeGreaterThan(0);
      const spec = w.precision.policy.quant!;
      for (const t of w.quantizedTensors) {
        const blocks = Math.ceil(t.cols / spec.blockSize); // codes + one fp32 scale per block (K padded to whole blocks)
        expect(t.quantizedBytes).toBe(t.rows * blocks * ((spec.blockSize * spec.bits) / 8 + 4));
        if (t.cols % spec.blockSize === 0)
          expect(t.quantizedBytes / (4 * t.rows * t.cols)).toBeLessThan(name === 'int8' ? 0.27 : 0.16);
      }
    },
  );
});
