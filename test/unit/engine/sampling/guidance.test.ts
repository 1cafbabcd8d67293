import { describe, expect, test } from 'vitest';
import {
  combineGuidance,
  needsNegativePrompt,
  stepGuidance,
  type GuidanceSettings,
} from '../../../../src-main/engine/sampling/guidance.ts';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';

const base: GuidanceSettings = { textScale: 5, imageScale: 2, cfgRange: [0, 1], inputImages: 1 };

describe('stepGuidance: which branches a step runs (§5.8)', () => {
  test.each([
    { textScale: 5, imageScale: 2, inputImages: 1, branches: ['cond', 'ref', 'uncond'] },
    { textScale: 5, imageScale: 1, inputImages: 1, branches: ['cond', 'uncond'] },
    { textScale: 5, imageScale: 0.5, inputImages: 2, branches: ['cond', 'uncond'] },
    { textScale: 1, imageScale: 2, inputImages: 1, branches: ['cond'] },
    { textScale: 0.8, imageScale: 3, inputImages: 3, branches: ['cond'] },
    // no input images: s_img forced to 1 even when the user asked for 2
    { textScale: 5, imageScale: 2, inputImages: 0, branches: ['cond', 'uncond'] },
  ])(
    's_txt $textScale, s_img $imageScale, $inputImages images → $branches',
    ({ textScale, imageScale, inputImages, branches }) => {
      const g = stepGuidance({ textScale, imageScale, cfgRange: [0, 1], inputImages }, 3, 10);
      expect(g.branches).toEqual(branches);
      if (inputImages === 0) expect(g.imageScale).toBe(1);
    },
  );

  test('cfg range gates by i/N, inclusive at both ends', () => {
    const s: GuidanceSettings = { ...base, cfgRange: [0.2, 0.6] };
    const active = Array.from({ length: 10 }, (_, i) => stepGuidance(s, i, 10).branches.length > 1);
    expect(active).toEqual([false, false, true, true, true, true, true, false, false, false]);
    const outside = stepGuidance(s, 9, 10);
    expect([outside.textScale, outside.imageScale, outside.branches]).toEqual([1, 1, ['cond']]);
    // the maintainers' speed recipe: end 0.6 with 28 steps → steps 0..16 guided (16/28 = 0.571)
    const recipe = Array.from(
      { length: 28 },
      (_, i) => stepGuidance({ ...base, cfgRange: [0, 0.6] }, i, 28).branches.length,
    );
    expect(recipe.lastIndexOf(3)).toBe(16);
  });

  test('needsNegativePrompt only when some step guides', () => {
    expect(needsNegativePrompt(base, 28)).toBe(true);
    expect(needsNegativePrompt({ ...base, textScale: 1 }, 28)).toBe(false);
    expect(needsNegativePrompt({ ...base, cfgRange: [0.99, 1] }, 28)).toBe(false);
  });

  test('bad arguments are typed errors', () => {
    expect(() => stepGuidance(base, 10, 10)).toThrow(SamplingError);
    expect(() => stepGuidance({ ...base, textScale: Number.NaN }, 0, 10)).toThrow(/finite/);
    expect(() => stepGuidance({ ...base, inputImages: -1 }, 0, 10)).toThrow(/inputImages/);
  });
});

describe('combineGuidance formulas (§5.8)', () => {
  const c = Float32Array.of(1, 2, -3);
  const r = Float32Array.of(0.5, 1, 1);
  const u = Float32Array.of(0, -1, 2);

  test('three branches: u + s_img·(r − u) + s_txt·(c − r)', () => {
    const g = stepGuidance(base, 0, 10);
    const got = combineGuidance(g, { cond: c, ref: r, uncond: u });
    Array.from(got).forEach((v, k) => expect(v).toBeCloseTo(u[k]! + 2 * (r[k]! - u[k]!) + 5 * (c[k]! - r[k]!), 5));
  });

  test('two branches: u + s_txt·(c − u), the ref output is not used', () => {
    const g = stepGuidance({ ...base, imageScale: 1 }, 0, 10);
    const got = combineGuidance(g, { cond: c, uncond: u });
    Array.from(got).forEach((v, k) => expect(v).toBeCloseTo(u[k]! + 5 * (c[k]! - u[k]!), 5));
  });

  test('one branch: cond itself; a missing needed branch is a typed error', () => {
    const g1 = stepGuidance({ ...base, textScale: 1 }, 0, 10);
    expect(combineGuidance(g1, { cond: c })).toBe(c);
    const out = new Float32Array(3);
    expect(Array.from(combineGuidance(g1, { cond: c }, out))).toEqual(Array.from(c));
    expect(() => combineGuidance(stepGuidance(base, 0, 10), { cond: c, uncond: u })).toThrow(/"ref" branch/);
  });
});
