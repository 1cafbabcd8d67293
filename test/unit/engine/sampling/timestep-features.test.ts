import { describe, expect, test } from 'vitest';
import { timestepFeatures } from '../../../../src-main/engine/sampling/timestep-features.ts';
import { expectClose } from '../../../helpers/tensors.ts';

describe('timestepFeatures (§3.1, diffusers Timesteps(256, flip_sin_to_cos=True, scale=1000))', () => {
  test('cos half first, then sin; t = 0 gives [1…1, 0…0]', () => {
    const e = timestepFeatures(0);
    expect(e.length).toBe(256);
    expect(Array.from(e.subarray(0, 128)).every((v) => v === 1)).toBe(true);
    expect(Array.from(e.subarray(128)).every((v) => v === 0)).toBe(true);
  });

  test('matches the float64 formula up to fp32 angle rounding', () => {
    for (const t of [0.37, 0.93, 0.5, 1]) {
      const want = new Float64Array(256);
      for (let k = 0; k < 128; k++) {
        const a = 1000 * t * Math.exp((-Math.log(10000) * k) / 128);
        want[k] = Math.cos(a);
        want[128 + k] = Math.sin(a);
      }
      // One fp32 ulp of an angle near 1000 is 6e-5; the float64 formula does not round at all.
      expectClose(timestepFeatures(t), want, { atol: 2e-4 }, `t=${t}`);
    }
  });

  test('the angle is rounded to float32 like the reference (a_0 = fround(1000·fround(t)))', () => {
    const t = 0.123456789;
    expect(timestepFeatures(t)[0]).toBe(Math.fround(Math.cos(Math.fround(1000 * Math.fround(t)))));
  });

  test('scale and channels are honoured; nonsense is refused', () => {
    expect(timestepFeatures(0.5, { channels: 4, scale: 1 })[0]).toBeCloseTo(Math.cos(0.5), 6);
    expect(() => timestepFeatures(Number.NaN)).toThrow(RangeError);
    expect(() => timestepFeatures(0.5, { channels: 3 })).toThrow(RangeError);
  });
});
