import { describe, expect, test } from 'vitest';
import { eulerStep } from '../../../../src-main/engine/sampling/euler.ts';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';
import { flowMatchTimesteps } from '../../../../src-main/engine/sampling/timesteps.ts';

describe('eulerStep (§5.6)', () => {
  test('x + (t_next − t)·v in float32', () => {
    const out = eulerStep(Float32Array.of(1, -2, 0.5), Float32Array.of(2, 4, -1), 0.25, 0.75);
    expect(Array.from(out)).toEqual([2, 0, 0]);
  });

  test('a constant velocity field reaches x_0 + v after all steps (Σ dt = 1)', () => {
    const t = flowMatchTimesteps(28, 4096);
    let x: Float32Array = Float32Array.of(-1.5, 0, 2);
    const v = Float32Array.of(3, -1, 0.25);
    for (let i = 0; i < 28; i++) x = eulerStep(x, v, t[i]!, t[i + 1]!);
    [1.5, -1, 2.25].forEach((want, k) => expect(Math.abs(x[k]! - want)).toBeLessThan(2e-6));
  });

  test('the exact flow of x_t = t·x_data + (1 − t)·ε is integrated exactly (v = x_data − ε)', () => {
    const data = Float32Array.of(0.3, -0.7);
    const noise = Float32Array.of(1.1, 0.4);
    const v = data.map((d, k) => d - noise[k]!);
    const t = flowMatchTimesteps(10, 1024);
    const x = Float32Array.from(noise);
    for (let i = 0; i < 10; i++) eulerStep(x, v, t[i]!, t[i + 1]!, x); // in place
    Array.from(data).forEach((d, k) => expect(Math.abs(x[k]! - d)).toBeLessThan(1e-6));
  });

  test('mismatched lengths are a typed error', () => {
    expect(() => eulerStep(new Float32Array(3), new Float32Array(2), 0, 1)).toThrow(SamplingError);
  });
});
