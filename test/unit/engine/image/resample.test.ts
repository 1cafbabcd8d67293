import { describe, expect, test } from 'vitest';
import { resizeRgb } from '../../../../src-main/engine/image/resample.ts';
import { rgbImage } from '../../../../src-main/engine/image/rgb-image.ts';

// Value parity with Pillow and torch is in test/conformance/preprocess.test.ts; these pin the invariants.
const gradient = (w: number, h: number) =>
  rgbImage(
    w,
    h,
    Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256),
  );

describe('resizeRgb', () => {
  test.each(['lanczos', 'bicubic'] as const)(
    '%s keeps a flat image flat (weights sum to one after rounding)',
    (filter) => {
      const flat = rgbImage(37, 23, new Uint8Array(37 * 23 * 3).fill(200));
      for (const [w, h] of [
        [16, 16],
        [80, 9],
        [37, 50],
      ]) {
        for (const weights of ['pillow', 'torch'] as const)
          expect(resizeRgb(flat, w!, h!, { filter, weights }).data.every((v) => v === 200)).toBe(true);
      }
    },
  );

  test('same size returns an equal copy', () => {
    const img = gradient(5, 4);
    const out = resizeRgb(img, 5, 4, { filter: 'lanczos' });
    expect(out.data).not.toBe(img.data);
    expect(Array.from(out.data)).toEqual(Array.from(img.data));
  });

  test('an axis that keeps its size is not resampled (PIL skips that pass)', () => {
    const img = gradient(6, 3);
    const out = resizeRgb(img, 3, 3, { filter: 'bicubic' });
    // halving the width of row-constant-per-column data: rows stay independent
    const row = (y: number) => Array.from(out.data.subarray(y * 9, y * 9 + 9));
    const single = (y: number) =>
      Array.from(resizeRgb(rgbImage(6, 1, img.data.slice(y * 18, y * 18 + 18)), 3, 1, { filter: 'bicubic' }).data);
    for (let y = 0; y < 3; y++) expect(row(y)).toEqual(single(y));
  });

  test('Lanczos overshoot is clamped to [0, 255]', () => {
    const edge = rgbImage(
      8,
      1,
      Uint8Array.from({ length: 24 }, (_, i) => (Math.floor(i / 3) < 4 ? 0 : 255)),
    );
    const up = resizeRgb(edge, 32, 1, { filter: 'lanczos' });
    expect(Math.min(...up.data)).toBe(0);
    expect(Math.max(...up.data)).toBe(255);
  });

  test('bad sizes are typed errors', () => {
    expect(() => resizeRgb(gradient(4, 4), 0, 4, { filter: 'lanczos' })).toThrow(/positive integers/);
  });
});
