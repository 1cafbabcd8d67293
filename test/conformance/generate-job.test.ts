import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, test } from 'vitest';
import { startWorkerEngine } from '../../src-main/engine/host/worker-engine.ts';
import type { EngineProgress } from '../../src-main/engine/host/protocol.ts';
import type { GenerateJob, GeneratedPng } from '../../src-main/engine/pipeline/generate-job.ts';
import { encodePng } from '../../src-main/engine/image/encode-png.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { goldenRun } from '../helpers/golden-pipeline.ts';

// Any run with an input image: the job path under test (encode the image, denoise, preview, decode) is the same.
function editRunFile(): string {
  const found = goldenCases('pipeline', /\.safetensors$/).find((file) => goldenRun(file).images.length > 0);
  if (!found) throw new Error('the golden pipeline/ has no run with an input image');
  return found;
}
const edit = editRunFile();
const { params: editParams, run: editRun } = goldenRun(edit);

async function editJob(overrides: Partial<GenerateJob> = {}): Promise<GenerateJob> {
  const g = goldenRun(edit);
  return {
    modelDir: goldenDir(),
    prompt: g.prompt,
    negative: g.negative,
    images: [await encodePng(g.images[0]!)],
    params: g.params,
    numImages: 1,
    previews: true,
    ...overrides,
  };
}

describe(`generation jobs in the engine host (${basename(edit)})`, () => {
  const engine = startWorkerEngine();
  afterAll(() => engine.dispose());

  test('reports every step with an ETA and a decodable preview, then returns the PNG', async () => {
    const progress: EngineProgress[] = [];
    const job = await editJob();
    const [result] = (await engine.run(
      'job-1',
      { kind: 'generate', job },
      { onProgress: (p) => progress.push(p) },
    )) as GeneratedPng[];
    const steps = progress.filter((p) => p.stage === 'denoising');
    const total = editParams.steps;
    const [height, width] = editRun.output_hw;
    expect(steps.map((p) => p.step)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(steps.every((p) => p.total === total && typeof p.etaMs === 'number' && p.etaMs >= 0)).toBe(true);
    expect(steps.at(-1)!.etaMs).toBe(0);
    for (const p of steps) {
      const meta = await sharp(p.preview!).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', width / 8, height / 8]); // one pixel per latent pixel
    }
    expect(result).toMatchObject({ width, height, seed: 0 });
    expect((await sharp(result!.png).metadata()).format).toBe('png');
  });

  test('a seed fully determines the image; another seed changes it', async () => {
    const job = await editJob({ previews: false });
    const run = async (seed: number) =>
      (
        (await engine.run(`seed-${seed}-${Math.random()}`, {
          kind: 'generate',
          job: { ...job, params: { ...job.params, seed } },
        })) as GeneratedPng[]
      )[0]!.png;
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
  });

  test('several images get consecutive seeds', async () => {
    const job = await editJob({ previews: false, numImages: 2 });
    const out = (await engine.run('many', {
      kind: 'generate',
      job: { ...job, params: { ...job.params, seed: 41 } },
    })) as GeneratedPng[];
    expect(out.map((r) => r.seed)).toEqual([41, 42]);
  });

  test('cancelling between steps stops the job with a typed error and the engine stays usable', async () => {
    const controller = new AbortController();
    const job = await editJob({ previews: false, params: { ...(await editJob()).params, steps: 40 } });
    const run = engine.run(
      'cancel-me',
      { kind: 'generate', job },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.step === 2) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    const again = (await engine.run('after-cancel', {
      kind: 'generate',
      job: await editJob({ previews: false }),
    })) as GeneratedPng[];
    expect(again).toHaveLength(1);
  });

  test('an unreadable input image is refused by name', async () => {
    const job = await editJob({ images: [new Uint8Array([1, 2, 3, 4])] });
    await expect(engine.run('bad-image', { kind: 'generate', job })).rejects.toMatchObject({
      message: expect.stringMatching(/image 1/),
    });
  });

  test('a model folder without a VAE says what is missing', async () => {
    const job = await editJob({ modelDir: join(goldenDir(), 'transformer') });
    await expect(engine.run('no-vae', { kind: 'generate', job })).rejects.toMatchObject({ code: 'model-missing' });
  });
});
