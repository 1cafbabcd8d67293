import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import { generateImage, type GenerationParams, type LatentCodec, type PromptEmbedding } from '../../src-main/engine/pipeline/generate.ts';
import { loadVaeCodec } from '../../src-main/engine/pipeline/vae-codec.ts';
import { rgbImage } from '../../src-main/engine/image/rgb-image.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';

interface Run { sched: 'euler' | 'dpmsolver++'; images: [number, number, number][] | null; w: number | null; h: number | null; steps: number; tg: number; ig: number; cfg_range: [number, number]; output_hw: [number, number] }

const runs = JSON.parse(readFileSync(join(goldenDir(), 'pipeline/runs.json'), 'utf8')) as Record<string, Run>;
const files = goldenCases('pipeline', /\.safetensors$/);

function embedding(f: SafetensorsFile, key: string, mask: string): PromptEmbedding {
  const [, , F] = f.get(key).shape as [number, number, number];
  const length = Number(f.readBigInt64(mask).reduce((a, b) => a + b, 0n));
  return { hidden: f.readFloat32(key).slice(0, length * F), length };
}

/** The inputs of a golden run as the pipeline takes them (text embeddings given, initial noise given). */
export function goldenRun(file: string) {
  const name = basename(file, '.safetensors');
  const run = runs[name];
  if (!run) throw new Error(`${file} has no entry in pipeline/runs.json`);
  const f = SafetensorsFile.open(file);
  const images = [...f.tensors.keys()].filter((k) => /^input_image_\d+$/.test(k)).sort().map((k) => {
    const [h, w] = f.get(k).shape as [number, number, number];
    return rgbImage(w, h, new Uint8Array(f.readBytes(k)));
  });
  const params: GenerationParams = {
    steps: run.steps, textGuidance: run.tg, imageGuidance: run.ig, cfgRange: run.cfg_range, scheduler: run.sched,
    width: run.w ?? 1024, height: run.h ?? 1024, maxPixels: 1024 * 1024, maxSideLength: 1024, seed: 0,
  };
  return {
    name, run, file: f, images, params,
    prompt: embedding(f, 'prompt_embeds', 'prompt_attention_mask'),
    negative: embedding(f, 'negative_prompt_embeds', 'negative_prompt_attention_mask'),
    initialLatents: f.readFloat32('initial_latents'),
  };
}

// fp32 on CPU against the official fp32 run; errors compound over steps, so the bound is 1e-4 absolute.
const TOL = { atol: 1e-4, rtol: 1e-4 };

describe('generation pipeline reproduces the official sampler', () => {
  let dit: DitModel;
  let vae: LatentCodec;
  beforeAll(async () => {
    dit = await DitModel.load(goldenDir());
    vae = await loadVaeCodec(goldenDir());
  });
  afterAll(async () => { await dit?.release(); });

  test('the golden directory has pipeline runs', () => expect(files.length).toBeGreaterThan(0));

  test.each(files.map((f) => [basename(f), f]))('%s: every step and the final image', async (_name, file) => {
    const g = goldenRun(file);
    const steps: number[] = [];
    const result = await generateImage(dit, vae, { prompt: g.prompt, negative: g.negative, images: g.images, params: g.params, initialLatents: g.initialLatents }, {
      onProgress: (p) => {
        if (!p.record) return;
        const i = p.record.step;
        steps.push(i);
        expectClose(p.record.sampleIn, g.file.readFloat32(`step${i}_sample_in`), TOL, `step ${i} sample_in`);
        expectClose(p.record.velocity, g.file.readFloat32(`step${i}_model_output`), TOL, `step ${i} model_output`);
        expectClose(p.record.sampleOut, g.file.readFloat32(`step${i}_sample_out`), TOL, `step ${i} sample_out`);
      },
    });
    expect(steps).toEqual(Array.from({ length: g.run.steps }, (_, i) => i));
    expect([result.image.height, result.image.width]).toEqual(g.run.output_hw);
    const c = expectClose(result.image.data, g.file.readFloat32('image'), TOL, 'image');
    expect(c.maxAbs).toBeLessThan(1e-4);
  });
});
