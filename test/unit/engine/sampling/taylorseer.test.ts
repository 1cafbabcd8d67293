import { describe, expect, test } from 'vitest';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';
import {
  TAYLORSEER_FIRST_ENHANCE,
  TAYLORSEER_FRESH_THRESHOLD,
  TAYLORSEER_MAX_ORDER,
  TaylorSeer,
} from '../../../../src-main/engine/sampling/taylorseer.ts';

/** Drives one branch through `calls` transformer calls with feature(s) = f(s); returns kinds, orders and outputs. */
function run(calls: number, f: (s: number) => number) {
  const seer = new TaylorSeer();
  const kinds: string[] = [];
  const orders: number[] = [];
  const outputs: number[] = [];
  for (let s = 0; s < calls; s++) {
    const kind = seer.beginCall();
    kinds.push(kind);
    if (kind === 'full') {
      seer.recordFull(Float32Array.of(f(s)));
      outputs.push(f(s));
    } else {
      outputs.push(seer.predict()[0]!);
    }
    orders.push(seer.order);
  }
  return { kinds, orders, outputs };
}

describe('TaylorSeer (§6.2)', () => {
  test('official constants', () => {
    expect([TAYLORSEER_FIRST_ENHANCE, TAYLORSEER_FRESH_THRESHOLD, TAYLORSEER_MAX_ORDER]).toEqual([5, 3, 4]);
  });

  test('full calls at 0–4 then every 3rd (7, 10, …): 20 of 50 and 12 of 28', () => {
    const full = (n: number) => run(n, () => 0).kinds.flatMap((k, s) => (k === 'full' ? [s] : []));
    expect(full(50)).toEqual([0, 1, 2, 3, 4, ...Array.from({ length: 15 }, (_, j) => 7 + 3 * j)]);
    expect(full(50).length).toBe(20);
    expect(full(28).length).toBe(12);
  });

  test('derivative order grows 0,0,0,0,1,2,3,4,4 over the full calls', () => {
    const { kinds, orders } = run(17, () => 0);
    expect(orders.filter((_, s) => kinds[s] === 'full')).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 4]);
  });

  test('outputs equal a literal port of the official cal_type / derivative_approximation / taylor_formula', () => {
    // Scalar restatement of the reference's dict-based code (cache_init: activated_steps = [0], counter 0).
    function reference(calls: number, f: (s: number) => number): number[] {
      const activated = [0];
      let counter = 0;
      let cache: Record<number, number> = {};
      const out: number[] = [];
      for (let step = 0; step < calls; step++) {
        const firstStep = step < 5;
        if (firstStep || counter === 3 - 1) {
          counter = 0;
          activated.push(step);
          if (step === 0) cache = {}; // taylor_cache_init
          const distance = activated[activated.length - 1]! - activated[activated.length - 2]!;
          const updated: Record<number, number> = { 0: f(step) };
          for (let i = 0; i < 4; i++) {
            if (cache[i] !== undefined && step > 5 - 2) updated[i + 1] = (updated[i]! - cache[i]!) / distance;
            else break;
          }
          cache = updated;
          out.push(f(step));
        } else {
          counter += 1;
          const x = step - activated[activated.length - 1]!;
          let y = 0;
          let fact = 1;
          for (let i = 0; cache[i] !== undefined; i++) {
            if (i > 0) fact *= i;
            y += (1 / fact) * cache[i]! * x ** i;
          }
          out.push(y);
        }
      }
      return out;
    }
    const f = (s: number) => Math.sin(0.3 * s) + 0.01 * s * s;
    const got = run(50, f).outputs;
    const want = reference(50, f);
    // float32 storage vs the float64 port: measured worst 1.4e-7 relative (values up to 25)
    want.forEach((w, s) => expect(Math.abs(got[s]! - w), `call ${s}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(w))));
    expect(want.filter((w, s) => Math.abs(w - f(s)) > 1e-3).length).toBeGreaterThan(10); // Taylor calls really extrapolate
  });

  test('a linear feature is extrapolated exactly from the first Taylor call', () => {
    const lin = run(7, (s) => 3 - 2 * s);
    expect(lin.kinds[5]).toBe('taylor');
    expect(lin.outputs[5]).toBeCloseTo(-7, 5);
    expect(lin.outputs[6]).toBeCloseTo(-9, 5);
  });

  test('protocol errors are typed', () => {
    const seer = new TaylorSeer();
    expect(() => seer.recordFull(new Float32Array(1))).toThrow(SamplingError);
    expect(seer.beginCall()).toBe('full');
    expect(() => seer.beginCall()).toThrow(/begun twice/);
    expect(() => seer.predict()).toThrow(/cannot finish a taylor call/);
    seer.recordFull(new Float32Array(2));
    seer.reset();
    expect(seer.step).toBe(0);
    expect(seer.order).toBe(-1);
  });
});
