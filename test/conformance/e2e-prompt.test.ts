import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, test } from 'vitest';
import { encodePng } from '../../src-main/engine/image/encode-png.ts';
import { generateImage } from '../../src-main/engine/pipeline/generate.ts';
import { ModelSet } from '../../src-main/engine/pipeline/model-set.ts';
import { goldenCases, goldenDir, repoRoot } from '../helpers/golden.ts';
import { goldenE2eRun } from '../helpers/golden-pipeline.ts';
import { expectClose } from '../helpers/tensors.ts';

const files = goldenCases('e2e', /^e2e_.*\.safetensors$/);
const modelDir = join(goldenDir(), 'e2e/model');
const models = new ModelSet();
const work = mkdtempSync(join(tmpdir(), 'atelier-e2e-prompt-'));
afterAll(async () => {
  await models.release();
  rmSync(work, { recursive: true, force: true });
});

// The MLLM, DiT and VAE in fp32 against the official fp32 run: 1e-4 absolute on the [0, 1] image.
describe('text prompt → image, end to end through the MLLM (golden e2e runs)', () => {
  test('the golden directory has e2e runs', () => expect(files.length).toBeGreaterThan(0));

  test.each(files.map((f) => [basename(f), f]))('%s through the pipeline', async (_n, file) => {
    const { run, f, images, params, initialLatents } = goldenE2eRun(file);
    const set = models.open(modelDir);
    const [dit, vae] = [await set.dit(), await set.vae()];
    const result = await generateImage(dit, vae, {
      prompt: await set.encodePrompt(run.prompt),
      negative: await set.encodePrompt(run.negative ?? ''),
      images,
      params,
      initialLatents,
    });
    expect([result.image.height, result.image.width]).toEqual(run.output_hw);
    expectClose(result.image.data, f.readFloat32('image'), { atol: 1e-4 }, 'image');
  });

  test.each(files.map((f) => [basename(f), f]))('%s through atelier generate --prompt', async (name, file) => {
    const { run, f, images } = goldenE2eRun(file);
    const out = join(work, `${name}.png`);
    // The golden images are fp32: pin the CPU so a machine with a WebGPU adapter does not switch to fp16-mixed.
    const args = [
      join(repoRoot, 'bin/atelier.js'),
      'generate',
      '--provider',
      'cpu',
      '--model',
      modelDir,
      '--prompt',
      run.prompt,
      '--negative',
      run.negative ?? '',
      '--latents',
      file,
      '--steps',
      String(run.steps),
      '--text-guidance',
      String(run.tg),
      '--image-guidance',
      String(run.ig),
      '--cfg-range',
      run.cfg.join(','),
      '--out',
      out,
    ];
    if (run.w !== null && run.h !== null) args.push('--width', String(run.w), '--height', String(run.h));
    for (const [j, image] of images.entries()) {
      const path = join(work, `${name}-${j}.png`);
      await sharp(await encodePng(image)).toFile(path);
      args.push('--image', path);
    }
    // A private user-data folder: the CLI remembers provider probes there, never in the real home folder.
    const r = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      env: { ...process.env, ATELIER_USER_DATA: join(work, 'user-data') },
    });
    expect(r.status, r.stderr).toBe(0);
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const [H, W] = run.output_hw;
    const want = f.readFloat32('image');
    let worst = 0;
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < H * W; p++)
        worst = Math.max(worst, Math.abs(data[p * info.channels + c]! - want[c * H * W + p]! * 255));
    expect(worst, 'largest pixel difference in 8-bit levels').toBeLessThanOrEqual(1);
  });
});
