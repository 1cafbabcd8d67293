import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import { generateImage, type LatentCodec } from '../../src-main/engine/pipeline/generate.ts';
import { loadVaeCodec } from '../../src-main/engine/pipeline/vae-codec.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { goldenRun } from '../helpers/golden-pipeline.ts';
import { expectClose } from '../helpers/tensors.ts';

const files = goldenCases('pipeline', /\.safetensors$/);

// fp32 on CPU against the official fp32 run; errors compound over steps, so the bound is 1e-4 absolute.
const TOL = { atol: 1e-4, rtol: 1e-4 };

describe('generation pipeline reproduces the official sampler', () => {
  let dit: DitModel;
  let vae: LatentCodec;
  beforeAll(async () => {
    dit = await DitModel.load(goldenDir());
    vae = await loadVaeCodec(goldenDir());
  });
  afterAll(async () => {
    await dit?.release();
  });

  test('the golden directory has pipeline runs', () => expect(files.length).toBeGreaterThan(0));

  test.each(files.map((f) => [basename(f), f]))('%s: every step and the final image', async (_name, file) => {
    const g = goldenRun(file);
    const steps: number[] = [];
    const result = await generateImage(
      dit,
      vae,
      { prompt: g.prompt, negative: g.negative, images: g.images, params: g.params, initialLatents: g.initialLatents },
      {
        onProgress: (p) => {
          if (!p.record) return;
          const i = p.record.step;
          steps.push(i);
          expectClose(p.record.sampleIn, g.file.readFloat32(`step${i}_sample_in`), TOL, `step ${i} sample_in`);
          expectClose(p.record.velocity, g.file.readFloat32(`step${i}_model_output`), TOL, `step ${i} model_output`);
          expectClose(p.record.sampleOut, g.file.readFloat32(`step${i}_sample_out`), TOL, `step ${i} sample_out`);
        },
      },
    );
    expect(steps).toEqual(Array.from({ length: g.run.steps }, (_, i) => i));
    expect([result.image.height, result.image.width]).toEqual(g.run.output_hw);
    const c = expectClose(result.image.data, g.file.readFloat32('image'), TOL, 'image');
    expect(c.maxAbs).toBeLessThan(1e-4);
  });
});
