import { expect } from 'vitest';

export interface Closeness {
  maxAbs: number;
  maxRel: number;
  worst: number;
}

/** Element-wise comparison: the largest absolute error and where it is (never a mean). */
export function closeness(got: ArrayLike<number>, want: ArrayLike<number>): Closeness {
  let maxAbs = 0,
    worst = -1,
    maxRel = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= maxAbs)) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
    const rel = d / Math.max(Math.abs(want[i]!), 1e-6);
    if (rel > maxRel) maxRel = rel;
  }
  return { maxAbs, maxRel, worst };
}

/**
 * Asserts equal length and |got − want| ≤ atol + rtol·|want| everywhere; the message names the worst element.
 */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: { atol: number; rtol?: number },
  label = '',
): Closeness {
  expect(got.length, `${label}: length`).toBe(want.length);
  expect(want.length, `${label}: reference is empty`).toBeGreaterThan(0);
  const rtol = tol.rtol ?? 0;
  let bad = -1,
    badExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    const excess = d - (tol.atol + rtol * Math.abs(want[i]!));
    if (!(excess <= badExcess)) {
      bad = i;
      badExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  const c = closeness(got, want);
  expect(
    bad,
    `${label}: element ${bad} is ${got[bad]} but should be ${want[bad]} (max abs error ${c.maxAbs} at ${c.worst}; atol ${tol.atol}, rtol ${rtol})`,
  ).toBe(-1);
  return c;
}
