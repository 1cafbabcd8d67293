import { describe, expect, test } from 'vitest';
import { DpmSolverPlusPlus2M } from '../../../../src-main/engine/sampling/dpm-solver.ts';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';
import { flowMatchTimesteps } from '../../../../src-main/engine/sampling/timesteps.ts';

/** §5.7 written out with λ and e^{−h} in float64, for the interior steps where everything is finite. */
function referenceSecondOrder(sigmas: Float64Array, i: number, x: number, x0: number, x0Prev: number): number {
  const lambda = (j: number) => Math.log(1 - sigmas[j]!) - Math.log(sigmas[j]!);
  const h = lambda(i + 1) - lambda(i);
  const r = (lambda(i) - lambda(i - 1)) / h;
  const alphaT = 1 - sigmas[i + 1]!;
  const d1 = (x0 - x0Prev) / r;
  return (sigmas[i + 1]! / sigmas[i]!) * x - alphaT * (Math.exp(-h) - 1) * x0 - 0.5 * alphaT * (Math.exp(-h) - 1) * d1;
}

describe('DPM-Solver++ 2M (§5.7)', () => {
  const t = flowMatchTimesteps(6, 4096);

  test('endpoint limits: x_1 = σ_1·x_0 + α_1·x̂0_0 and x_N = x̂0_{N−1}, never NaN', () => {
    const solver = new DpmSolverPlusPlus2M(t);
    const s = solver.sigmas;
    const x0 = Float32Array.of(0.8, -1.2);
    const v0 = Float32Array.of(-0.5, 0.25);
    const x1 = solver.step(0, x0, v0);
    const hat0 = x0.map((x, k) => x + s[0]! * v0[k]!);
    x1.forEach((x, k) => expect(x).toBeCloseTo(s[1]! * x0[k]! + (1 - s[1]!) * hat0[k]!, 6));
    let x = x1;
    for (let i = 1; i < 5; i++) x = solver.step(i, x, Float32Array.of(0.1 * i, -0.2));
    const vLast = Float32Array.of(0.3, 0.4);
    const xN = solver.step(5, x, vLast);
    xN.forEach((v, k) => expect(v).toBeCloseTo(x[k]! + s[5]! * vLast[k]!, 6));
    expect(xN.every(Number.isFinite)).toBe(true);
  });

  test('step 1 is first order (λ_0 = −∞ ⇒ D1 = 0); later interior steps are second order', () => {
    const a = new DpmSolverPlusPlus2M(t);
    const b = new DpmSolverPlusPlus2M(t);
    const x0 = Float32Array.of(1);
    a.step(0, x0, Float32Array.of(2));
    b.step(0, x0, Float32Array.of(-3)); // different x̂0_0
    const x1 = Float32Array.of(0.5);
    // If step 1 used x̂0_0 the two solvers would differ.
    expect(a.step(1, x1, Float32Array.of(0.7))[0]).toBe(b.step(1, x1, Float32Array.of(0.7))[0]);

    const s = a.sigmas;
    const x2 = Float32Array.of(0.4);
    const v2 = Float32Array.of(-0.9);
    const hat1 = 0.5 + s[1]! * 0.7;
    const hat2 = 0.4 + s[2]! * -0.9;
    expect(a.step(2, x2, v2)[0]).toBeCloseTo(referenceSecondOrder(s, 2, 0.4, hat2, hat1), 6);
  });

  test('N = 1: the single step returns the data prediction', () => {
    const solver = new DpmSolverPlusPlus2M(flowMatchTimesteps(1, 4096));
    expect(Array.from(solver.step(0, Float32Array.of(0.5, -1), Float32Array.of(1, 2)))).toEqual([1.5, 1]);
  });

  test('steps must run in order; reset starts over; lengths must agree', () => {
    const solver = new DpmSolverPlusPlus2M(t);
    expect(() => solver.step(1, new Float32Array(2), new Float32Array(2))).toThrow(SamplingError);
    solver.step(0, new Float32Array(2), new Float32Array(2));
    expect(() => solver.step(0, new Float32Array(2), new Float32Array(2))).toThrow(/expected step 1/);
    solver.reset();
    expect(() => solver.step(0, new Float32Array(2), new Float32Array(2))).not.toThrow();
    expect(() => solver.step(1, new Float32Array(2), new Float32Array(3))).toThrow(/lengths differ/);
  });
});
