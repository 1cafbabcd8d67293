// Golden scheduler/schedules.json: the official FlowMatchEulerDiscreteScheduler and DPM-Solver++ tables, and a
// DPM-Solver++ trajectory on the analytic velocity field 0.5·x + cos(3x)·t (golden/README.md, scheduler/).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DpmSolverPlusPlus2M } from '../../src-main/engine/sampling/dpm-solver.ts';
import { flowMatchSigmas, flowMatchTimesteps } from '../../src-main/engine/sampling/timesteps.ts';
import { goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';

const table: Record<string, unknown> = JSON.parse(readFileSync(join(goldenDir(), 'scheduler/schedules.json'), 'utf8'));

interface TableCase {
  key: string;
  kind: 'euler' | 'dpm' | 'dpm_sigmas';
  steps: number;
  tokens: number;
  want: number[];
}
const tables: TableCase[] = Object.entries(table).flatMap(([key, want]) => {
  const m = /^(euler|dpm|dpm_sigmas)_(\d+)_(\d+)$/.exec(key);
  return m && Array.isArray(want)
    ? [{ key, kind: m[1] as TableCase['kind'], steps: Number(m[2]), tokens: Number(m[3]), want: want as number[] }]
    : [];
});

describe('schedules equal every table of the official schedulers', () => {
  test('the golden file has euler, dpm and dpm_sigmas tables', () => {
    for (const kind of ['euler', 'dpm', 'dpm_sigmas'])
      expect(tables.filter((c) => c.kind === kind).length, kind).toBeGreaterThan(0);
    // every array-valued key is a schedule table; a new kind of table must not be skipped silently
    expect(tables.length).toBe(Object.values(table).filter(Array.isArray).length);
  });

  test.each(tables)('$key', ({ kind, steps, tokens, want }) => {
    const t = flowMatchTimesteps(steps, tokens);
    expect(t.length).toBe(steps + 1);
    expect(t[steps]).toBe(1);
    const got = kind === 'dpm_sigmas' ? flowMatchSigmas(t) : t.subarray(0, steps);
    expect(got.length).toBe(want.length);
    // float64 shift on float32 τ, rounded to float32: bit-exact (measured worst: 0 on every table)
    want.forEach((v, i) => expect(got[i], `${kind}[${i}]`).toBe(v));
  });
});

interface Trajectory {
  x0: number[];
  velocity: string;
  samples: number[][];
}

describe('DPM-Solver++ 2M follows the official trajectory', () => {
  const cases = Object.entries(table).flatMap(([key, v]) => {
    const m = /^dpm_trajectory_(\d+)_(\d+)$/.exec(key);
    return m ? [{ key, steps: Number(m[1]), tokens: Number(m[2]), trajectory: v as Trajectory }] : [];
  });

  test('the golden file has a trajectory on the documented field', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(c.trajectory.velocity).toBe('0.5*x + cos(3x)*t');
  });

  test.each(cases)('$key', ({ steps, tokens, trajectory }) => {
    expect(trajectory.samples.length).toBe(steps);
    const t = flowMatchTimesteps(steps, tokens);
    const solver = new DpmSolverPlusPlus2M(t);
    let x: Float32Array = Float32Array.from(trajectory.x0);
    trajectory.samples.forEach((want, i) => {
      const v = x.map((xi) => 0.5 * xi + Math.cos(3 * xi) * t[i]!); // the field sees the flow time t_i
      x = solver.step(i, x, v);
      // float64 coefficients vs the reference's float32 scalars: measured worst 4.8e-7 (values ≈ 1)
      expectClose(x, want, { atol: 2e-6 }, `sample after step ${i}`);
    });
  });
});
