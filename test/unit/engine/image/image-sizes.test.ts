import { describe, expect, test } from 'vitest';
import { ImageError } from '../../../../src-main/engine/image/image-error.ts';
import { DEFAULT_VAE_LIMITS, planOutputSize, vaeInputSize } from '../../../../src-main/engine/image/image-sizes.ts';
import { smartResize } from '../../../../src-main/engine/image/qwen-preprocess.ts';

describe('vaeInputSize (§5.1 step 1)', () => {
  test.each([
    { w: 1024, h: 1024, limits: DEFAULT_VAE_LIMITS, want: [1024, 1024] },
    { w: 2050, h: 700, limits: DEFAULT_VAE_LIMITS, want: [1024, 336] }, // side limit; ⌊2050·1024/2050⌋ stays 1024
    { w: 1200, h: 900, limits: { maxPixels: 262144, maxSideLength: 2048 }, want: [576, 432] }, // pixel limit
    { w: 333, h: 517, limits: DEFAULT_VAE_LIMITS, want: [320, 512] }, // never upscales, floors to 16
    { w: 4000, h: 3000, limits: { maxPixels: 1536 * 1536, maxSideLength: 2048 }, want: [1760, 1328] },
  ])('$w×$h → $want', ({ w, h, limits, want }) => {
    const s = vaeInputSize({ width: w, height: h }, limits);
    expect([s.width, s.height]).toEqual(want);
  });

  test('images that would lose a side are rejected with a clear error', () => {
    expect(() => vaeInputSize({ width: 15, height: 400 })).toThrow(ImageError);
    expect(() => vaeInputSize({ width: 0, height: 10 })).toThrow(/positive integers/);
    expect(() => vaeInputSize({ width: 64, height: 64 }, { maxPixels: 0, maxSideLength: 1024 })).toThrow(/maxPixels/);
  });
});

describe('planOutputSize (§5.3)', () => {
  test('one input image with alignRes: its preprocessed size, no resize', () => {
    const plan = planOutputSize({
      requested: { width: 1024, height: 1024 },
      inputSizes: [{ width: 576, height: 432 }],
      alignRes: true,
      maxPixels: 1024 * 1024,
    });
    expect(plan).toEqual({ generate: { width: 576, height: 432 }, output: { width: 576, height: 432 } });
  });

  test('no images: the requested size, generated within maxPixels at multiples of 16', () => {
    expect(
      planOutputSize({
        requested: { width: 1000, height: 600 },
        inputSizes: [],
        alignRes: true,
        maxPixels: 1024 * 1024,
      }),
    ).toEqual({ generate: { width: 992, height: 592 }, output: { width: 1000, height: 600 } });
    const big = planOutputSize({
      requested: { width: 2048, height: 1536 },
      inputSizes: [],
      alignRes: true,
      maxPixels: 1024 * 1024,
    });
    expect(big.generate).toEqual({ width: 1168, height: 880 }); // r = √(2^20/(2048·1536)) = 0.5774
    expect(big.output).toEqual({ width: 2048, height: 1536 });
  });

  test('two images, or alignRes off, keep the requested size', () => {
    const two = planOutputSize({
      requested: { width: 768, height: 512 },
      inputSizes: [
        { width: 512, height: 512 },
        { width: 256, height: 256 },
      ],
      alignRes: true,
      maxPixels: 1024 * 1024,
    });
    expect(two.generate).toEqual({ width: 768, height: 512 });
    const off = planOutputSize({
      requested: { width: 768, height: 512 },
      inputSizes: [{ width: 512, height: 512 }],
      alignRes: false,
      maxPixels: 1024 * 1024,
    });
    expect(off.output).toEqual({ width: 768, height: 512 });
  });
});

describe('smartResize (§2.4)', () => {
  const opts = { factor: 28, minPixels: 3136, maxPixels: 12845056 };
  test('round half to even, as Python does', () => {
    // 42/28 = 1.5 → 2 (even) ; 70/28 = 2.5 → 2 (even, JS Math.round would give 3)
    expect(smartResize({ width: 42, height: 70 }, { ...opts, minPixels: 1 })).toEqual({ width: 56, height: 56 });
  });
  test('min/max pixel limits', () => {
    expect(smartResize({ width: 64, height: 48 }, opts)).toEqual({ width: 56, height: 56 });
    const s = smartResize({ width: 1200, height: 900 }, { ...opts, maxPixels: 50176 });
    expect(s).toEqual({ width: 252, height: 168 });
    expect(s.width * s.height).toBeLessThanOrEqual(50176);
  });
  test('extreme aspect ratios are rejected', () => {
    expect(() => smartResize({ width: 201 * 30, height: 30 }, opts)).toThrow(/aspect ratio/);
  });
});
