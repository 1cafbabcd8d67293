// `npm run bench -- generate [--steps N]`: whole generations (text guidance, 2 branches per step) with the tiny
// golden model and a mid-size synthetic model at two resolutions: seconds per step, decode time and total.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import { generateImage, type GenerationParams } from '../../src-main/engine/pipeline/generate.ts';
import { loadVaeCodec } from '../../src-main/engine/pipeline/vae-codec.ts';
import { SeededRng } from '../../src-main/engine/sampling/rng.ts';
import { vaeConfigJson, writeSyntheticVae } from '../../test/unit/engine/models/vae-fixtures.ts';
import { MID_DIT_CONFIG, writeSyntheticDit } from './_dit-synthetic.ts';
import { peakRssMiB, printTable } from './_report.ts';
import { goldenDir } from '../../test/helpers/golden.ts';

const GOLDEN = goldenDir();
const TEXT_TOKENS = 64;

async function measure(
  label: string,
  modelDir: string,
  sizes: number[],
  steps: number,
): Promise<Record<string, string | number>[]> {
  const dit = await DitModel.load(modelDir);
  const vae = await loadVaeCodec(modelDir);
  const rng = new SeededRng(1);
  const text = () => ({
    hidden: rng.fillNormal(new Float32Array(TEXT_TOKENS * dit.config.textFeatDim)),
    length: TEXT_TOKENS,
  });
  const rows: Record<string, string | number>[] = [];
  for (const size of sizes) {
    const params: GenerationParams = {
      steps,
      textGuidance: 4,
      imageGuidance: 1,
      cfgRange: [0, 1],
      scheduler: 'euler',
      width: size,
      height: size,
      maxPixels: size * size,
      maxSideLength: size,
      seed: 0,
    };
    const stepMs: number[] = [];
    let last = performance.now();
    let decodeStart = 0;
    const start = performance.now();
    await generateImage(
      dit,
      vae,
      { prompt: text(), negative: text(), images: [], params },
      {
        onProgress: (p) => {
          const now = performance.now();
          if (p.stage === 'denoising') stepMs.push(now - last);
          if (p.stage === 'decoding') decodeStart = now;
          last = now;
        },
      },
    );
    const total = performance.now() - start;
    // The first step includes session creation; report it apart from the steady state.
    const steady = stepMs.slice(1);
    rows.push({
      model: label,
      size: `${size}²`,
      'image tokens': (size / 16) ** 2,
      steps,
      'first step s': stepMs[0]! / 1000,
      's/step': steady.reduce((a, b) => a + b, 0) / steady.length / 1000,
      'decode s': (performance.now() - decodeStart) / 1000,
      'total s': total / 1000,
      'peak RSS MiB': peakRssMiB(),
    });
  }
  await dit.release();
  await vae.release();
  return rows;
}

/** TeaCache / TaylorSeer on the tiny model: wall time and the final image's deviation from the uncached run. */
async function accelerations(modelDir: string, steps: number): Promise<Record<string, string | number>[]> {
  const dit = await DitModel.load(modelDir);
  const vae = await loadVaeCodec(modelDir);
  const rng = new SeededRng(2);
  const prompt = {
    hidden: rng.fillNormal(new Float32Array(TEXT_TOKENS * dit.config.textFeatDim)),
    length: TEXT_TOKENS,
  };
  const negative = {
    hidden: rng.fillNormal(new Float32Array(TEXT_TOKENS * dit.config.textFeatDim)),
    length: TEXT_TOKENS,
  };
  const base: GenerationParams = {
    steps,
    textGuidance: 4,
    imageGuidance: 1,
    cfgRange: [0, 1],
    scheduler: 'euler',
    width: 256,
    height: 256,
    maxPixels: 256 * 256,
    maxSideLength: 256,
    seed: 3,
  };
  const variants: [string, GenerationParams][] = [
    ['none', base],
    ['teacache 0.05', { ...base, acceleration: { kind: 'teacache' } }],
    ['taylorseer', { ...base, acceleration: { kind: 'taylorseer' } }],
  ];
  const rows: Record<string, string | number>[] = [];
  let reference: Float32Array | null = null;
  let referenceMs = 0;
  for (const [name, params] of variants) {
    await generateImage(dit, vae, { prompt, negative, images: [], params }); // warm: sessions of this path
    const t = performance.now();
    const r = await generateImage(dit, vae, { prompt, negative, images: [], params });
    const ms = performance.now() - t;
    reference ??= r.image.data;
    if (name === 'none') referenceMs = ms;
    let maxAbs = 0;
    for (let i = 0; i < reference.length; i++) maxAbs = Math.max(maxAbs, Math.abs(r.image.data[i]! - reference[i]!));
    rows.push({
      acceleration: name,
      steps,
      'total s': ms / 1000,
      'speed-up': referenceMs / ms,
      'max |Δ| (0–1 image)': maxAbs,
      'max Δ 8-bit': Math.round(maxAbs * 255),
    });
  }
  await dit.release();
  await vae.release();
  return rows;
}

export async function run(args: string[]): Promise<void> {
  const stepsArg = args.indexOf('--steps');
  const steps = stepsArg >= 0 ? Number(args[stepsArg + 1]) : 4;
  const rows = await measure('tiny (golden)', GOLDEN, [256, 512], steps);
  const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-generate-'));
  try {
    writeSyntheticDit(dir, MID_DIT_CONFIG);
    writeSyntheticVae(join(dir, 'vae'), vaeConfigJson([64, 128, 256, 256], 32));
    rows.push(...(await measure('mid (D640×8, VAE 64–256)', dir, [256, 512], steps)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(`generate: text-to-image, ${steps} steps, text guidance (2 DiT calls per step), CPU fp32`, rows);
  printTable(
    'accelerations on the tiny golden model (256², 30 steps, 2 branches; random weights)',
    await accelerations(GOLDEN, 30),
  );
}
