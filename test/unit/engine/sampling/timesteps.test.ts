import { describe, expect, test } from 'vitest';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';
import { flowMatchSigmas, flowMatchTimesteps, timeShift } from '../../../../src-main/engine/sampling/timesteps.ts';

describe('flowMatchTimesteps (§5.5)', () => {
  test('shift m = √(h·w)/40 for the documented resolutions', () => {
    expect(timeShift(64 * 64)).toBeCloseTo(1.6, 12); // 512²
    expect(timeShift(128 * 128)).toBeCloseTo(3.2, 12); // 1024²
    expect(timeShift(128 * 192)).toBeCloseTo(3.919, 3); // 1024×1536
  });

  test('§5.5 sanity values, 1024², N = 50 and N = 28', () => {
    const t50 = flowMatchTimesteps(50, 128 * 128);
    [0, 0.006337, 0.012853, 0.019557, 0.026455].forEach((v, i) => expect(t50[i]).toBeCloseTo(v, 6));
    [0.830389, 0.882353, 0.938697, 1].forEach((v, i) => expect(t50[47 + i]).toBeCloseTo(v, 6));
    const t28 = flowMatchTimesteps(28, 128 * 128);
    [0, 0.011442, 0.023474].forEach((v, i) => expect(t28[i]).toBeCloseTo(v, 6));
    [0.802469, 0.89404, 1].forEach((v, i) => expect(t28[26 + i]).toBeCloseTo(v, 6));
  });

  test('values are float32 and increase from 0 to 1', () => {
    const t = flowMatchTimesteps(37, 100 * 77);
    for (let i = 0; i < t.length; i++) {
      expect(Math.fround(t[i]!)).toBe(t[i]);
      if (i > 0) expect(t[i]!).toBeGreaterThan(t[i - 1]!);
    }
    expect(t[0]).toBe(0);
  });

  test('sigmas are 1 − t in float32 with σ_N = 0', () => {
    const t = flowMatchTimesteps(4, 16);
    const s = flowMatchSigmas(t);
    expect(Array.from(s)).toEqual([1, Math.fround(1 - t[1]!), Math.fround(1 - t[2]!), Math.fround(1 - t[3]!), 0]);
  });

  test('rejects nonsense instead of returning NaN', () => {
    for (const [steps, tokens] of [
      [0, 4096],
      [2.5, 4096],
      [10, 0],
      [10, -4],
      [10, Number.NaN],
    ] as const) {
      expect(() => flowMatchTimesteps(steps, tokens)).toThrow(SamplingError);
    }
    expect(() => flowMatchSigmas(new Float64Array([0, 0.5]))).toThrow(/ending in t_N = 1/);
  });
});
