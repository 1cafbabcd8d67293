import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { goldenDir } from '../../helpers/golden.ts';
import {
  ASPECT_PRESETS,
  clampTo,
  LIMITS,
  presetFor,
  presetSize,
  preprocessedSize,
} from '../../../src-renderer/src/lib/workspace/parameters.ts';
import { referencedImages } from '../../../src-renderer/src/lib/workspace/prompt-guide.ts';
import {
  centredAspect,
  dragRect,
  MIN_SIDE,
  roundRect,
} from '../../../src-renderer/src/lib/workspace/inputs/crop-geometry.ts';

describe('preprocessedSize (§5.1) agrees with the official image processor', () => {
  const golden = JSON.parse(readFileSync(join(goldenDir(), 'preprocess/preprocess.json'), 'utf8')) as {
    sizes_w_h_seed: number[][];
    shapes: Record<string, number[]>;
  };
  const cases = Object.entries(golden.shapes).flatMap(([key, shape]) => {
    const m = /^img(\d+)_vae_(\d+)_(\d+)$/.exec(key);
    if (!m) return [];
    const [w, h] = golden.sizes_w_h_seed[Number(m[1])]!;
    return [
      {
        key,
        w: w!,
        h: h!,
        maxPixels: Number(m[2]),
        maxSide: Number(m[3]),
        want: { width: shape[3], height: shape[2] },
      },
    ];
  });
  test('the golden file has VAE cases', () => expect(cases.length).toBeGreaterThanOrEqual(10));
  test.each(cases)('$key', ({ w, h, maxPixels, maxSide, want }) =>
    expect(preprocessedSize(w, h, maxPixels, maxSide)).toEqual(want),
  );
});

describe('aspect presets', () => {
  test('each preset is a multiple of 16 within max pixels, and is recognised back', () => {
    for (const p of ASPECT_PRESETS) {
      const s = presetSize(p.ratio, 1024 * 1024);
      expect(s.width % 16, p.id).toBe(0);
      expect(s.height % 16, p.id).toBe(0);
      expect(s.width * s.height, p.id).toBeLessThanOrEqual(1024 * 1024);
      expect(Math.abs(s.width / s.height - p.ratio[0] / p.ratio[1]), p.id).toBeLessThan(0.03);
      expect(presetFor(s.width, s.height, 1024 * 1024)?.id).toBe(p.id);
    }
    expect(presetSize([1, 1], 1024 * 1024)).toEqual({ width: 1024, height: 1024 });
    expect(presetFor(1000, 700, 1024 * 1024)).toBeNull();
  });

  test('clampTo keeps values in range and on their step', () => {
    expect(clampTo(LIMITS.width, 1000)).toBe(1008);
    expect(clampTo(LIMITS.textGuidance, 4.94)).toBe(4.9);
    expect(clampTo(LIMITS.steps, Number.NaN)).toBe(1);
  });
});

describe('referencedImages', () => {
  test.each([
    ['Add the bird from image 1 to the desk in image 2', [1, 2]],
    ['Edit the first image: add the man from the second image.', [1, 2]],
    ['img3 and Image #4, picture 5', [3, 4, 5]],
    ['A red cube on a table', []],
    ['the image is nice', []],
  ])('%s', (prompt, want) => expect(referencedImages(prompt)).toEqual(want));
});

describe('crop geometry', () => {
  const bounds = { width: 800, height: 600 };
  const start = { x: 100, y: 100, width: 400, height: 300 };

  test('moving keeps the size and stays inside the image', () => {
    expect(dragRect(start, 'move', 1000, -1000, bounds, null)).toEqual({ x: 400, y: 0, width: 400, height: 300 });
  });

  test('free corners and edges resize from the opposite side, never below 16 px', () => {
    expect(dragRect(start, 'nw', -50, -20, bounds, null)).toEqual({ x: 50, y: 80, width: 450, height: 320 });
    expect(dragRect(start, 'e', -1000, 0, bounds, null)).toEqual({ x: 100, y: 100, width: MIN_SIDE, height: 300 });
  });

  test('a locked aspect survives a corner drag and the image edge', () => {
    const r = dragRect({ x: 100, y: 100, width: 300, height: 300 }, 'se', 1000, 10, bounds, 1);
    expect(r.width).toBeCloseTo(r.height);
    expect(r.y + r.height).toBeLessThanOrEqual(600);
    expect(r).toMatchObject({ x: 100, y: 100, width: 500 });
  });

  test('a preset starts centred and as large as fits; rounding keeps it inside', () => {
    expect(centredAspect(bounds, 1)).toEqual({ x: 100, y: 0, width: 600, height: 600 });
    expect(roundRect({ x: 799.6, y: -3, width: 10, height: 700 }, bounds)).toEqual({
      x: 784,
      y: 0,
      width: 16,
      height: 600,
    });
  });
});
