// The golden cases through the WebGPU execution provider (lavapipe on CI, a real GPU wherever one is lent):
// fp32 graphs within fp32-sized tolerances, fp16-mixed within its stated budget. Workloads are the tiny golden
// configurations; on lavapipe most of the time is shader compilation.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import { QwenTextModel } from '../../src-main/engine/models/qwen-text.ts';
import { QwenVisionModel } from '../../src-main/engine/models/qwen-vision.ts';
import { VaeModel } from '../../src-main/engine/models/vae.ts';
import { textPositionIds } from '../../src-main/engine/sampling/mrope.ts';
import { generateImage } from '../../src-main/engine/pipeline/generate.ts';
import { loadVaeCodec } from '../../src-main/engine/pipeline/vae-codec.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { goldenRun } from '../helpers/golden-pipeline.ts';
import { closeness, expectClose } from '../helpers/tensors.ts';
import { loadDitCase, type DitCase } from '../conformance/dit-case.ts';
import { WEBGPU_SESSION, attentionRight, hasWebGpu, privateCopy } from './adapter.ts';

// Tolerances: the measured worst on lavapipe (Mesa 25.0, onnxruntime 1.30) is beside each; the bounds are the
// CPU conformance bounds where the WebGPU error is as small as the CPU's, so a kernel regression shows.
const TOL = {
  ditFp32: { atol: 1e-5 }, // case_A 5.7e-7
  vaeFp32: { atol: 5e-5 }, // mean 2.4e-6, decoded 5.1e-6
  textFp32: { atol: 2e-5, rtol: 1e-5 }, // last hidden 1.8e-6
  visionFp32: { atol: 1e-4 }, // not measured: skipped on lavapipe (attention over 192 patches)
  sampling: { atol: 1e-4, rtol: 1e-4 }, // t2i_euler image 1.2e-6
  // fp16-mixed (fp16 weights, fp16 linear/attention compute, onnx/precision.ts) against the fp32 reference:
  // case_A 1.6e-3 on velocities of magnitude ≤ 1.4; 1e-2 is a 6× margin and still far below a wrong kernel (> 1e-2).
  ditFp16: { atol: 1e-2 },
};

/** Longest joint sequence of a DiT case: from 32 tokens on, attention takes the kernel lavapipe gets wrong. */
const longestSequence = (c: DitCase) => Math.max(...c.items.map((i) => i.rope.full.rows));
const ATTENTION_SPLIT = 32;

const report = (label: string, got: ArrayLike<number>, want: ArrayLike<number>) => {
  const c = closeness(got, want);
  console.log(`webgpu ${label}: max abs error ${c.maxAbs.toExponential(2)}`);
};

describe.skipIf(!hasWebGpu)('golden cases on WebGPU', () => {
  describe('DiT (transformer/case_*)', () => {
    const cases = goldenCases('transformer', /^case_.*\.safetensors$/).map(loadDitCase);
    let fp32: DitModel, fp16: DitModel;
    beforeAll(async () => {
      fp32 = await DitModel.load(join(goldenDir(), 'transformer'), { session: WEBGPU_SESSION });
      fp16 = await DitModel.load(privateCopy(join(goldenDir(), 'transformer')), {
        session: WEBGPU_SESSION,
        precision: 'fp16-mixed',
      });
    });
    afterAll(async () => {
      await fp32?.release();
      await fp16?.release();
    });

    test('the golden folder has transformer cases', () => expect(cases.length).toBeGreaterThan(0));
    const usable = (c: DitCase) => attentionRight || longestSequence(c) < ATTENTION_SPLIT;
    test.for(cases)('$name: fp32 velocity, element-wise', async (c, ctx) => {
      if (!usable(c)) return ctx.skip(`${longestSequence(c)} tokens take the attention kernel this adapter gets wrong`);
      const got = await fp32.forward(c.inputs);
      report(`DiT fp32 ${c.name}`, got.data, c.output.data);
      expectClose(got.data, c.output.data, TOL.ditFp32, c.name);
    });
    test.for(cases)('$name: fp16-mixed velocity within its budget', async (c, ctx) => {
      if (!usable(c)) return ctx.skip(`${longestSequence(c)} tokens take the attention kernel this adapter gets wrong`);
      const got = await fp16.forward(c.inputs);
      report(`DiT fp16-mixed ${c.name}`, got.data, c.output.data);
      expectClose(got.data, c.output.data, TOL.ditFp16, c.name);
    });
  });

  test('VAE (vae/case_*): fp32 encode mean and decode, element-wise', async () => {
    const vae = await VaeModel.load(join(goldenDir(), 'vae'), undefined, { session: WEBGPU_SESSION });
    try {
      const files = goldenCases('vae', /^case_.*\.safetensors$/);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const f = SafetensorsFile.open(file);
        const t = (k: string) => ({ data: f.readFloat32(k), dims: f.get(k).shape });
        const enc = await vae.encode(t('image'));
        report(`VAE mean ${file}`, enc.mean.data, f.readFloat32('latent_mean'));
        expectClose(enc.mean.data, f.readFloat32('latent_mean'), TOL.vaeFp32, 'latent_mean');
        const dec = await vae.decode(t('latent_in'));
        report(`VAE decoded ${file}`, dec.data, f.readFloat32('decoded'));
        expectClose(dec.data, f.readFloat32('decoded'), TOL.vaeFp32, 'decoded');
      }
    } finally {
      await vae.release();
    }
  });

  test('Qwen2.5-VL text decoder and, where attention over 32+ tokens is right, the vision tower (mllm/case_*): fp32, element-wise', async () => {
    const mllmDir = join(goldenDir(), 'mllm');
    const text = await QwenTextModel.load(mllmDir, { session: WEBGPU_SESSION, logits: 'all' });
    const vision = await QwenVisionModel.load(mllmDir, mllmDir, { session: WEBGPU_SESSION });
    try {
      const files = goldenCases('mllm', /^case_.*\.safetensors$/);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const f = SafetensorsFile.open(file);
        if (f.has('text_input_ids')) {
          const ids = Array.from(f.readBigInt64('text_input_ids'), Number);
          const out = await text.forward({ embeds: text.embed(ids), positions: textPositionIds(ids.length) });
          report(`text last hidden ${file}`, out.lastHidden, f.readFloat32('text_last_hidden'));
          expectClose(out.lastHidden, f.readFloat32('text_last_hidden'), TOL.textFp32, 'text_last_hidden');
          expectClose(out.logits, f.readFloat32('text_logits'), TOL.textFp32, 'text_logits');
        }
        if (f.has('mm_pixel_values') && attentionRight) {
          const thw = Array.from(f.readBigInt64('mm_image_grid_thw'), Number);
          const grids = Array.from(
            { length: thw.length / 3 },
            (_, i) => [thw[3 * i]!, thw[3 * i + 1]!, thw[3 * i + 2]!] as [number, number, number],
          );
          const got = await vision.embed(f.readFloat32('mm_pixel_values'), grids);
          report(`vision embeds ${file}`, got, f.readFloat32('mm_vision_embeds'));
          expectClose(got, f.readFloat32('mm_vision_embeds'), TOL.visionFp32, 'mm_vision_embeds');
        }
      }
    } finally {
      await text.release();
      await vision.release();
    }
  });

  test('one sampling run (pipeline/, text-to-image): fp32 DiT and VAE on WebGPU, every step and the image', async () => {
    const file = goldenCases('pipeline', /\.safetensors$/).find((f) => goldenRun(f).images.length === 0);
    expect(file, 'a text-to-image pipeline run').toBeDefined();
    const g = goldenRun(file!);
    const dit = await DitModel.load(goldenDir(), { session: WEBGPU_SESSION });
    const vae = await loadVaeCodec(goldenDir(), { session: WEBGPU_SESSION });
    try {
      let steps = 0;
      const result = await generateImage(
        dit,
        vae,
        {
          prompt: g.prompt,
          negative: g.negative,
          images: g.images,
          params: g.params,
          initialLatents: g.initialLatents,
        },
        {
          onProgress: (p) => {
            if (!p.record) return;
            steps++;
            expectClose(
              p.record.sampleOut,
              g.file.readFloat32(`step${p.record.step}_sample_out`),
              TOL.sampling,
              `step ${p.record.step} sample_out`,
            );
          },
        },
      );
      expect(steps).toBe(g.run.steps);
      report(`sampling image ${g.name}`, result.image.data, g.file.readFloat32('image'));
      expectClose(result.image.data, g.file.readFloat32('image'), TOL.sampling, 'image');
    } finally {
      await dit.release();
      await vae.release();
    }
  });
});
