import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, test } from 'vitest';
import { encodePng } from '../../src-main/engine/image/encode-png.ts';
import { readRecipe } from '../../src-main/services/projects/png-recipe.ts';
import { goldenCases, goldenDir, repoRoot } from '../helpers/golden.ts';
import { goldenRun } from '../helpers/golden-pipeline.ts';

const files = goldenCases('pipeline', /\.safetensors$/);
const work = mkdtempSync(join(tmpdir(), 'atelier-generate-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function atelier(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A private user-data folder: the CLI remembers provider probes there, never in the real home folder.
    const child = spawn(process.execPath, [join(repoRoot, 'bin/atelier.js'), ...args], {
      cwd: work,
      env: { ...process.env, ATELIER_USER_DATA: join(work, 'user-data') },
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('atelier generate reproduces the golden runs through the CLI', () => {
  test('the golden directory has pipeline runs', () => expect(files.length).toBeGreaterThan(0));

  test.each(files.map((f) => [basename(f), f]))('%s', async (name, file) => {
    const g = goldenRun(file);
    // The golden images are fp32: pin the CPU so a machine with a WebGPU adapter does not switch to fp16-mixed.
    const args = [
      'generate',
      '--provider',
      'cpu',
      '--model',
      goldenDir(),
      '--prompt-embeds',
      file,
      '--latents',
      file,
      '--steps',
      String(g.run.steps),
      '--text-guidance',
      String(g.run.tg),
      '--image-guidance',
      String(g.run.ig),
      '--cfg-range',
      g.run.cfg_range.join(','),
      '--scheduler',
      g.run.sched,
      '--out',
      join(work, `${name}.png`),
    ];
    if (g.run.w !== null && g.run.h !== null) args.push('--width', String(g.run.w), '--height', String(g.run.h));
    for (const [j, image] of g.images.entries()) {
      const path = join(work, `${name}-input-${j}.png`);
      await sharp(await encodePng(image)).toFile(path);
      args.push('--image', path);
    }
    const r = await atelier(args);
    expect(r.stderr, 'stderr').not.toMatch(/Error|at /);
    expect(r.code).toBe(0);
    const out = join(work, `${name}.png`);
    expect(r.stdout.trim()).toBe(out);

    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const [H, W] = g.run.output_hw;
    expect([info.height, info.width, info.channels]).toEqual([H, W, 3]);
    const want = g.file.readFloat32('image'); // [1, 3, H, W] in [0, 1] before 8-bit rounding
    let worst = 0;
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < H * W; p++) worst = Math.max(worst, Math.abs(data[p * 3 + c]! - want[c * H * W + p]! * 255));
    expect(worst, 'largest pixel difference in 8-bit levels').toBeLessThanOrEqual(1);

    const recipe = readRecipe(readFileSync(out));
    expect(recipe).toMatchObject({
      steps: g.run.steps,
      scheduler: g.run.sched,
      textGuidance: g.run.tg,
      inputImages: expect.any(Array),
    });
    expect(recipe.inputImages).toHaveLength(g.images.length);
  });

  test('bad arguments and a missing model give one-line errors and non-zero exits', async () => {
    const missing = await atelier(['generate', '--model', join(work, 'nope'), '--prompt', 'a cat']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^atelier generate: no model folder at .*nope\n$/);
    const badSteps = await atelier(['generate', '--model', goldenDir(), '--prompt', 'a cat', '--steps', 'many']);
    expect(badSteps.code).toBe(2);
    expect(badSteps.stderr).toMatch(/--steps must be a whole number/);
    const noMllm = await atelier([
      'generate',
      '--model',
      goldenDir(),
      '--prompt',
      'a cat',
      '--steps',
      '1',
      '--out',
      join(work, 'x.png'),
    ]);
    expect(noMllm.code).toBe(1);
    expect(noMllm.stderr).toMatch(/has no processor\/ folder; download or import the model again/);
  });
});
