// Converted weights of a model folder Atelier does not manage (here the golden data itself, which the guard
// watches) go to a cache folder elsewhere; the graphs then read the source and the cache from a common folder
// above both (weights/cache-location.ts, onnxruntime reads external data below one folder only), and still compute
// the golden outputs within each precision's tolerance.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import { QwenTextModel } from '../../src-main/engine/models/qwen-text.ts';
import type { Precision } from '../../src-main/engine/onnx/precision.ts';
import { textPositionIds } from '../../src-main/engine/sampling/mrope.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { closeness } from '../helpers/tensors.ts';
import { loadDitCase, moreConditioning, pickItem } from './dit-case.ts';

const cases = goldenCases('transformer', /^case_.*\.safetensors$/).map(loadDitCase);
const cacheDir = mkdtempSync(join(tmpdir(), 'atelier-external-cache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

// max |Δ| against the fp32 reference (outputs up to ~1.4). Measured here: fp16-mixed 4.8e-4, int8 7.4e-3; the
// bounds keep a ~7× margin (precision.test.ts and quantization.test.ts hold the precise budgets). A graph reading
// the wrong bytes errs by order 1.
const TOLERANCE: Partial<Record<Precision, number>> = { 'fp16-mixed': 3e-3, int8: 5e-2 };
// Qwen text's last hidden state (values up to ~4): measured fp16-mixed 3.6e-3.
const TEXT_TOLERANCE = 3e-2;

describe('converted weights of an unmanaged folder go to the cache folder', () => {
  test.each(['fp16-mixed', 'int8'] as const)(
    '%s: cache written outside the model folder, outputs still match',
    async (precision) => {
      const { c, b, item } = pickItem(cases, moreConditioning);
      const dit = await DitModel.load(join(goldenDir(), 'transformer'), { precision, weightCacheDir: cacheDir });
      try {
        const [, C, h, w] = c.inputs.latents.dims as number[];
        const [, L, F] = c.inputs.textHiddenStates.dims as number[];
        const size = C! * h! * w!;
        const text = await dit.embedText(
          c.inputs.textHiddenStates.data.subarray(b * L! * F!, (b * L! + item.textLength) * F!),
          item.textLength,
        );
        const got = await dit.forwardOne({
          latent: { data: c.inputs.latents.data.subarray(b * size, (b + 1) * size), dims: [C!, h!, w!] },
          timestep: c.inputs.timestep[b]!,
          text,
          refs: c.inputs.refs?.[b] ?? [],
        });
        const { maxAbs } = closeness(got, c.output.data.subarray(b * size, (b + 1) * size));
        expect(maxAbs).toBeLessThan(TOLERANCE[precision]!);
      } finally {
        await dit.release();
      }
      expect(
        readdirSync(cacheDir).some((d) =>
          d.startsWith(precision === 'int8' ? 'transformer-int8' : 'transformer-float16'),
        ),
      ).toBe(true);
    },
  );

  test('Qwen text in fp16-mixed: the mllm/ root and the cache meet in a common folder, the last hidden state still matches', async () => {
    const file = goldenCases('mllm', /^case_.*\.safetensors$/)
      .map((f) => SafetensorsFile.open(f))
      .find((f) => f.has('text_input_ids') && f.has('text_last_hidden'));
    if (!file) throw new Error('the golden mllm/ has no text-only case');
    const ids = Array.from(file.readBigInt64('text_input_ids'), Number);
    const model = await QwenTextModel.load(join(goldenDir(), 'mllm'), {
      precision: 'fp16-mixed',
      weightCacheDir: cacheDir,
    });
    try {
      const out = await model.forward({ embeds: model.embed(ids), positions: textPositionIds(ids.length) });
      const { maxAbs } = closeness(out.lastHidden, file.readFloat32('text_last_hidden'));
      expect(maxAbs).toBeLessThan(TEXT_TOLERANCE);
    } finally {
      await model.release();
    }
    expect(readdirSync(cacheDir)).toContain('mllm-float16');
  });
});
