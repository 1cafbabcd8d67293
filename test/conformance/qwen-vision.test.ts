// Golden mllm/: the Qwen2.5-VL vision tower + merger (§2.4) against the official model, data-driven over every
// case file that carries mm_pixel_values. The tiny case (grid 16×12 → 8×6 merge units, windows of 4×4 units)
// has edge windows of 4×2 units, so the padded-window path of the reference is exercised.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { preprocessForQwen, QWEN_IMAGE_DEFAULTS } from '../../src-main/engine/image/qwen-preprocess.ts';
import { rgbImage } from '../../src-main/engine/image/rgb-image.ts';
import { QwenVisionModel, type GridThw } from '../../src-main/engine/models/qwen-vision.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../src-main/engine/weights/safetensors-writer.ts';
import { WeightError } from '../../src-main/engine/weights/weight-error.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';

const mllmDir = join(goldenDir(), 'mllm');

interface VisionCase {
  name: string;
  pixelValues: Float32Array;
  grids: GridThw[];
  embeds: Float32Array;
  embedDims: readonly number[];
}

function loadCase(path: string): VisionCase | null {
  const f = SafetensorsFile.open(path);
  if (!f.has('mm_pixel_values')) return null;
  const thw = Array.from(f.readBigInt64('mm_image_grid_thw'), Number);
  const grids = Array.from({ length: thw.length / 3 }, (_, i): GridThw => [
    thw[3 * i]!,
    thw[3 * i + 1]!,
    thw[3 * i + 2]!,
  ]);
  return {
    name: basename(path, '.safetensors'),
    pixelValues: f.readFloat32('mm_pixel_values'),
    grids,
    embeds: f.readFloat32('mm_vision_embeds'),
    embedDims: f.get('mm_vision_embeds').shape,
  };
}

const cases = goldenCases('mllm', /^case_.*\.safetensors$/)
  .map(loadCase)
  .filter((c): c is VisionCase => c !== null);

// fp32 CPU against the fp32 reference, outputs of magnitude ≤ 2.3. Measured worst 1.6e-6 (case_mllm); 1e-5
// keeps a 6× margin for other CPUs' kernel orders. Attending over the whole frame in the window blocks (or
// windows in the full block) moves the output by 2e-2, so this cannot pass with the wrong mask.
const FP32_TOL = { atol: 1e-5 };

let model: QwenVisionModel;
beforeAll(async () => {
  model = await QwenVisionModel.load(mllmDir);
});
afterAll(async () => {
  await model.release();
});

describe('vision embeddings match the official tower (golden mllm/case_*)', () => {
  test('the golden folder has vision cases', () => expect(cases.length).toBeGreaterThan(0));

  test.each(cases)('$name: mm_vision_embeds, element-wise', async (c: VisionCase) => {
    const got = await model.embed(c.pixelValues, c.grids);
    expect(c.embedDims).toEqual([c.grids.reduce((n, g) => n + model.tokenCount(g), 0), model.config.outHiddenSize]);
    expectClose(got, c.embeds, FP32_TOL, c.name);
  });

  test.each(cases)(
    '$name: the images twice in one call give the embeddings twice (each image has its own windows)',
    async (c: VisionCase) => {
      const pixels = new Float32Array(2 * c.pixelValues.length);
      pixels.set(c.pixelValues);
      pixels.set(c.pixelValues, c.pixelValues.length);
      const got = await model.embed(pixels, [...c.grids, ...c.grids]);
      expectClose(got.subarray(0, c.embeds.length), c.embeds, FP32_TOL, `${c.name} first`);
      expectClose(got.subarray(c.embeds.length), c.embeds, FP32_TOL, `${c.name} second`);
    },
  );

  test.each(cases)('$name: pixel values that do not fill the grids are refused', async (c: VisionCase) => {
    const patchDim = c.pixelValues.length / c.grids.reduce((n, [t, h, w]) => n + t * h * w, 0);
    const patches = c.pixelValues.length / patchDim;
    await expect(model.embed(c.pixelValues.subarray(patchDim), c.grids)).rejects.toThrow(
      `need ${patches} patches × ${patchDim}`,
    );
    const [t, h, w] = c.grids[0]!;
    await expect(model.embed(c.pixelValues, [[t, h - 1, w], ...c.grids.slice(1)])).rejects.toThrow(/multiples of 2/);
  });
});

describe('other checkpoint layouts and damaged checkpoints', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'atelier-qwen-vision-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A copy of the tiny mllm/ with `config` as config.json and each tensor passed through `edit` (null drops it). */
  function writeVariant(
    name: string,
    config: string,
    edit: (key: string, t: TensorToWrite) => [string, TensorToWrite] | null,
  ): string {
    const src = SafetensorsFile.open(join(mllmDir, 'model.safetensors'));
    const tensors: Record<string, TensorToWrite> = {};
    for (const info of src.tensors.values()) {
      const out = edit(info.name, { dtype: 'F32', shape: info.shape, data: src.readFloat32(info.name) });
      if (out) tensors[out[0]] = out[1];
    }
    const dir = join(tmp, name, 'mllm');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(mllmDir, config), join(dir, 'config.json'));
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    return dir;
  }

  test('the newer transformers layout (text_config/rope_parameters, model.visual.* keys) gives the same embeddings', async () => {
    const dir = writeVariant('native', 'config_transformers_native.json', (k, t) => [
      k.startsWith('visual.') ? `model.${k}` : k,
      t,
    ]);
    const native = await QwenVisionModel.load(dir, join(dir, '..'));
    try {
      for (const c of cases)
        expectClose(await native.embed(c.pixelValues, c.grids), c.embeds, FP32_TOL, `${c.name} (native layout)`);
    } finally {
      await native.release();
    }
  });

  test('a tensor with the wrong shape is a WeightError naming tensor and file', async () => {
    const dir = writeVariant('shape', 'config.json', (k, t) => [
      k,
      k === 'visual.blocks.1.mlp.up_proj.weight' ? { ...t, shape: [t.shape[1]!, t.shape[0]!] } : t,
    ]);
    const err = await QwenVisionModel.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err).toMatchObject({
      code: 'wrong-shape',
      tensor: 'visual.blocks.1.mlp.up_proj.weight',
      file: join(dir, 'model.safetensors'),
    });
    expect((err as Error).message).toMatch(
      /"visual\.blocks\.1\.mlp\.up_proj\.weight" in .*mllm\/model\.safetensors has shape \[32, 64\] but the model config expects \[64, 32\]/,
    );
  });

  test('a missing tensor is a WeightError naming tensor and file', async () => {
    const dir = writeVariant('missing', 'config.json', (k, t) => (k === 'visual.merger.ln_q.weight' ? null : [k, t]));
    const err = await QwenVisionModel.load(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'missing-tensor', tensor: 'visual.merger.ln_q.weight' });
    expect((err as Error).message).toMatch(/"visual\.merger\.ln_q\.weight" is missing from .*mllm\/model\.safetensors/);
  });
});

describe('end to end with the Qwen2-VL preprocessing', () => {
  test('a synthetic image → preprocessForQwen → embed gives [N/4, out_hidden] finite rows', async () => {
    const width = 150;
    const height = 97;
    const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37 + Math.floor(i / (3 * width)) * 11) % 256);
    const input = preprocessForQwen(rgbImage(width, height, data), { ...QWEN_IMAGE_DEFAULTS, maxPixels: 50176 });
    expect(input.gridThw).toEqual([1, 6, 10]); // smart_resize: 150×97 → 140×84 px, windows of 3×4 and 3×1 units
    const embeds = await model.embedImages([input]);
    const tokens = model.tokenCount(input.gridThw);
    expect(tokens).toBe(input.patches / 4);
    expect(embeds.length).toBe(tokens * model.config.outHiddenSize);
    expect(embeds.every(Number.isFinite)).toBe(true);
  });
});
