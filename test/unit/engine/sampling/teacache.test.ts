import { describe, expect, test } from 'vitest';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';
import {
  relativeL1,
  TEACACHE_COEFFICIENTS,
  TEACACHE_DEFAULT_THRESHOLD,
  TeaCache,
  teacacheRescale,
} from '../../../../src-main/engine/sampling/teacache.ts';

describe('TeaCache constants (§6.1)', () => {
  test('official polynomial and threshold', () => {
    expect(TEACACHE_COEFFICIENTS).toEqual([-5.48259225, 11.48772289, -4.47407401, 2.47730926, -0.03316487]);
    expect(TEACACHE_DEFAULT_THRESHOLD).toBe(0.05);
    const x = 0.1;
    expect(teacacheRescale(x)).toBeCloseTo(
      -5.48259225 * x ** 4 + 11.48772289 * x ** 3 - 4.47407401 * x ** 2 + 2.47730926 * x - 0.03316487,
      14,
    );
  });

  test('relative L1 = mean|m − P| / mean|P|', () => {
    expect(relativeL1(Float32Array.of(1, -2, 4), Float32Array.of(2, -2, 2))).toBeCloseTo(3 / 6, 12);
  });
});

describe('TeaCache decisions', () => {
  // m changes by a relative L1 of δ per step; poly(0.03) ≈ 0.0379, poly(0.01) ≈ −0.0088.
  const modulated = (scale: number) => Float32Array.of(scale, -scale, 2 * scale);

  test('first and last steps always compute; small changes accumulate until the threshold', () => {
    const cache = new TeaCache();
    const decisions: boolean[] = [];
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const compute = cache.shouldCompute(modulated(scale), i, 8);
      decisions.push(compute);
      if (compute) cache.recordResidual(new Float32Array(3), Float32Array.of(1, 1, 1));
      scale *= 1.03; // δ = 0.03 every step
    }
    // A: step1 0.0379 < 0.05 skip; step2 0.0758 compute (A←0); step3 skip; step4 compute; …; step 7 is last
    expect(decisions).toEqual([true, false, true, false, true, false, true, true]);
  });

  test('skipped calls return joint + R from the last computed call', () => {
    const cache = new TeaCache(1);
    expect(cache.shouldCompute(modulated(1), 0, 4)).toBe(true);
    cache.recordResidual(Float32Array.of(1, 2, 3), Float32Array.of(1.5, 2, 2));
    expect(cache.shouldCompute(modulated(1.01), 1, 4)).toBe(false);
    expect(Array.from(cache.applyResidual(Float32Array.of(10, 10, 10)))).toEqual([10.5, 10, 9]);
    expect(cache.accumulated).toBeGreaterThan(-1);
  });

  test('applying a residual before any was recorded is a typed error; bad threshold rejected', () => {
    expect(() => new TeaCache().applyResidual(new Float32Array(3))).toThrow(SamplingError);
    expect(() => new TeaCache(-1)).toThrow(/threshold/);
    expect(() => new TeaCache().shouldCompute(new Float32Array(3), 5, 5)).toThrow(SamplingError);
  });
});
