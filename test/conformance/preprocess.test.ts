// Golden preprocess/: the OmniGen2 VAE-path processor (§5.1) and the Qwen2-VL image processor (§2.4) run on
// five synthetic images. Shapes must match exactly (also those listed only in preprocess.json), values to
// the tolerance stated per test with the measured worst in a comment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { vaeInputSize } from '../../src-main/engine/image/image-sizes.ts';
import {
  preprocessForQwen,
  QWEN_IMAGE_DEFAULTS,
  smartResize,
  type QwenImageOptions,
} from '../../src-main/engine/image/qwen-preprocess.ts';
import { rgbImage, type RgbImage } from '../../src-main/engine/image/rgb-image.ts';
import { preprocessForVae } from '../../src-main/engine/image/vae-preprocess.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenDir } from '../helpers/golden.ts';
import { closeness, expectClose } from '../helpers/tensors.ts';

const dir = join(goldenDir(), 'preprocess');
const vaeFile = SafetensorsFile.open(join(dir, 'vae_preprocess.safetensors'));
const qwenFile = SafetensorsFile.open(join(dir, 'qwen_preprocess.safetensors'));
const manifest: { sizes_w_h_seed: [number, number, number][]; shapes: Record<string, unknown> } = JSON.parse(
  readFileSync(join(dir, 'preprocess.json'), 'utf8'),
);

const inputs = [...vaeFile.tensors.keys()].filter((k) => /^img\d+_input$/.test(k)).sort();
function input(k: string): RgbImage {
  const [h, w, c] = vaeFile.get(`img${k}_input`).shape;
  expect(c).toBe(3);
  return rgbImage(w!, h!, new Uint8Array(vaeFile.readBytes(`img${k}_input`)));
}

test('every img*_input has the size preprocess.json lists', () => {
  expect(inputs.length).toBe(manifest.sizes_w_h_seed.length);
  expect(inputs.length).toBeGreaterThan(0);
  manifest.sizes_w_h_seed.forEach(([w, h], k) => expect(vaeFile.get(`img${k}_input`).shape).toEqual([h, w, 3]));
});

describe('VAE-path preprocessing (§5.1)', () => {
  const shapeCases = Object.entries(manifest.shapes).flatMap(([name, shape]) => {
    const m = /^img(\d+)_vae_(\d+)_(\d+)$/.exec(name);
    return m
      ? [{ name, k: m[1]!, maxPixels: Number(m[2]), maxSideLength: Number(m[3]), shape: shape as number[] }]
      : [];
  });
  const valueCases = shapeCases.filter((c) => vaeFile.has(c.name));

  test('cases exist for every input, and every stored tensor is listed in preprocess.json', () => {
    expect(new Set(shapeCases.map((c) => c.k)).size).toBe(inputs.length);
    expect(valueCases.length).toBeGreaterThan(0);
    const stored = [...vaeFile.tensors.keys()].filter((k) => /_vae_/.test(k));
    expect(stored.sort()).toEqual(valueCases.map((c) => c.name).sort());
  });

  test.each(shapeCases)('$name: size rule gives $shape', ({ k, maxPixels, maxSideLength, shape }) => {
    const [h, w] = vaeFile.get(`img${k}_input`).shape;
    expect(vaeInputSize({ width: w!, height: h! }, { maxPixels, maxSideLength })).toEqual({
      width: shape[3],
      height: shape[2],
    });
  });

  test.each(valueCases)('$name: Lanczos + [-1, 1] values', ({ name, k, maxPixels, maxSideLength }) => {
    const got = preprocessForVae(input(k), { maxPixels, maxSideLength });
    expect([1, 3, got.height, got.width]).toEqual(vaeFile.get(name).shape);
    // Pillow's fixed-point Lanczos restated exactly: measured worst 0 (bit-exact) on all 8 stored cases
    expectClose(got.tensor, vaeFile.readFloat32(name), { atol: 1e-6 }, name);
  });
});

describe('Qwen2-VL preprocessing (§2.4)', () => {
  const shapeCases = Object.entries(manifest.shapes).flatMap(([name, v]) => {
    const m = /^img(\d+)_qwen$/.exec(name);
    const [pv, grid] = v as [number[], number[][]];
    return m ? [{ name, k: m[1]!, pixelShape: pv, grid: grid[0]! }] : [];
  });
  const valueCases = [...qwenFile.tensors.keys()].flatMap((name) => {
    const m = /^img(\d+)_pixel_values(?:_maxpx(\d+))?$/.exec(name);
    return m ? [{ name, k: m[1]!, maxPixels: m[2] ? Number(m[2]) : QWEN_IMAGE_DEFAULTS.maxPixels }] : [];
  });
  const options = (maxPixels: number, processor: QwenImageOptions['processor']) => ({
    ...QWEN_IMAGE_DEFAULTS,
    maxPixels,
    processor,
  });

  test('cases exist for every input', () => {
    expect(new Set(shapeCases.map((c) => c.k)).size).toBe(inputs.length);
    expect(valueCases.length).toBeGreaterThan(inputs.length); // default and max_pixels 50176 variants
  });

  test.each(shapeCases)(
    '$name: smart_resize gives grid $grid and pixel_values $pixelShape',
    ({ k, pixelShape, grid }) => {
      const [h, w] = vaeFile.get(`img${k}_input`).shape;
      const size = smartResize(
        { width: w!, height: h! },
        { factor: 28, minPixels: QWEN_IMAGE_DEFAULTS.minPixels, maxPixels: QWEN_IMAGE_DEFAULTS.maxPixels },
      );
      expect([1, size.height / 14, size.width / 14]).toEqual(grid);
      expect((size.height / 14) * (size.width / 14)).toBe(pixelShape[0]);
      expect(3 * 2 * 14 * 14).toBe(pixelShape[1]);
    },
  );

  test.each(valueCases)('$name: fast processor (default) values and grid_thw', ({ name, k, maxPixels }) => {
    const got = preprocessForQwen(input(k), options(maxPixels, 'fast'));
    expect([got.patches, got.patchDim]).toEqual(qwenFile.get(name).shape);
    const grid = qwenFile.readBigInt64(name.replace('pixel_values', 'grid_thw'));
    expect(got.gridThw).toEqual(Array.from(grid, Number));
    // torch uint8 antialiased bicubic + fused float32 normalisation: measured worst 0 (bit-exact) on all 7 cases
    expectClose(got.pixelValues, qwenFile.readFloat32(name), { atol: 1e-6 }, name);
  });

  test.each(valueCases)(
    '$name: slow (PIL) processor is within one 8-bit level, without offset',
    ({ name, k, maxPixels }) => {
      const got = preprocessForQwen(input(k), options(maxPixels, 'slow')).pixelValues;
      const want = qwenFile.readFloat32(name);
      // one 8-bit level is 1/255/std ≈ 0.0150 (measured worst 0.01501, on 0.19–0.60 % of values)
      const c = closeness(got, want);
      expect(c.maxAbs).toBeLessThan(0.0151);
      let off = 0;
      let bias = 0;
      for (let i = 0; i < want.length; i++) {
        const d = got[i]! - want[i]!;
        if (Math.abs(d) > 1e-6) off++;
        bias += d;
      }
      expect(off / want.length).toBeLessThan(0.01); // measured worst 0.59 % (img2)
      expect(Math.abs(bias / want.length)).toBeLessThan(1e-4); // measured worst 2.4e-5; a one-level offset would be 0.015
    },
  );
});
