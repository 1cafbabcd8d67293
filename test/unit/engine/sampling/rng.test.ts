import { describe, expect, test } from 'vitest';
import { portableCosSin2Pi, portableLog } from '../../../../src-main/engine/sampling/portable-math.ts';
import { randomNormalFloat32, SeededRng } from '../../../../src-main/engine/sampling/rng.ts';
import { SamplingError } from '../../../../src-main/engine/sampling/sampling-error.ts';

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('SeededRng determinism', () => {
  test('the stream is pinned: same seed → the same bits on every platform', () => {
    // Words and normals were cross-checked against an independent Python implementation of the algorithm
    // documented in rng.ts (arbitrary-precision integers, libm log/cos/sin): identical.
    const r = new SeededRng(42);
    expect(Array.from({ length: 4 }, () => r.nextUint32())).toEqual([0x69e85a2a, 0xf843fad0, 0x0105185f, 0x8a1f1ea6]);
    expect(bits(randomNormalFloat32(0, 8))).toEqual([
      0xbf79d2b8, 0xbfe28766, 0x3d5ffcfe, 0xbf722821, 0x3eb66183, 0xbfab70da, 0x3f77166f, 0xbf298ff3,
    ]);
  });

  test('SplitMix64 seeding matches its published first output for seed 0 (0xe220a8397b1dcdaf)', () => {
    // xoshiro128** state = [lo, hi] of that output and the next; the first word follows from s1 = hi.
    const hi = 0xe220a839;
    const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
    expect(new SeededRng(0).nextUint32()).toBe(Math.imul(rotl(Math.imul(hi, 5), 7), 9) >>> 0);
  });

  test('two generators with the same seed agree; different seeds differ', () => {
    expect(bits(randomNormalFloat32(7, 1001))).toEqual(bits(randomNormalFloat32(7, 1001)));
    expect(bits(randomNormalFloat32(7, 64))).not.toEqual(bits(randomNormalFloat32(8, 64)));
    expect(bits(randomNormalFloat32(2n ** 64n - 1n, 4)).length).toBe(4);
  });

  test('chunk-invariant: 3 + 4 + 10 values equal 17 values at once', () => {
    const r = new SeededRng(123);
    const parts = [3, 4, 10].flatMap((n) => bits(r.fillNormal(new Float32Array(n))));
    expect(parts).toEqual(bits(randomNormalFloat32(123, 17)));
  });

  test('invalid seeds and counts are typed errors', () => {
    for (const seed of [-1, 1.5, Number.NaN, 2 ** 60]) expect(() => new SeededRng(seed)).toThrow(SamplingError);
    expect(() => new SeededRng(2n ** 64n)).toThrow(/2\^64/);
    expect(() => randomNormalFloat32(0, -1)).toThrow(SamplingError);
  });
});

describe('SeededRng distribution', () => {
  const n = 400_000;
  const z = randomNormalFloat32(2024, n);

  test('moments of N(0, 1)', () => {
    let m1 = 0,
      m2 = 0,
      m3 = 0,
      m4 = 0;
    for (const v of z) {
      m1 += v;
      m2 += v * v;
      m3 += v ** 3;
      m4 += v ** 4;
    }
    m1 /= n;
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // standard errors at n = 4e5: mean 0.0016, variance 0.0022, skewness 0.0039, kurtosis 0.0077
    expect(Math.abs(m1)).toBeLessThan(0.008);
    expect(Math.abs(m2 - 1)).toBeLessThan(0.011);
    expect(Math.abs(m3)).toBeLessThan(0.02);
    expect(Math.abs(m4 - 3)).toBeLessThan(0.04);
  });

  test('tail masses within 1σ, 2σ, 3σ', () => {
    const within = (k: number) => z.filter((v) => Math.abs(v) < k).length / n;
    expect(Math.abs(within(1) - 0.682689)).toBeLessThan(0.004);
    expect(Math.abs(within(2) - 0.9545)).toBeLessThan(0.002);
    expect(Math.abs(within(3) - 0.9973)).toBeLessThan(0.0005);
  });

  test('uniforms are in [0, 1) and fill it evenly (chi-square over 64 bins)', () => {
    const r = new SeededRng(5);
    const bins = new Array<number>(64).fill(0);
    const m = 256_000;
    let outside = 0;
    for (let i = 0; i < m; i++) {
      const u = r.nextFloat64();
      if (!(u >= 0 && u < 1)) outside++;
      else bins[Math.floor(u * 64)]! += 1;
    }
    expect(outside).toBe(0);
    const e = m / 64;
    const chi2 = bins.reduce((s, b) => s + (b - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(110); // 63 degrees of freedom: p ≈ 2e-4 above 110
  });
});

describe('portable math (the RNG’s own ln, cos, sin)', () => {
  test('ln within 1e-15 relative of Math.log over (0, 1] and beyond', () => {
    for (let i = 1; i <= 20_000; i++) {
      const x = (i / 20_000) ** 3 * 4;
      const want = Math.log(x);
      expect(Math.abs(portableLog(x) - want)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(want)));
    }
    expect(portableLog(2 ** -53)).toBeCloseTo(-53 * Math.LN2, 13);
    expect(portableLog(1)).toBe(0);
  });

  test('cos/sin(2πu) within 1e-15 of Math.cos/Math.sin', () => {
    for (let i = 0; i < 20_000; i++) {
      const u = i / 20_000;
      const [c, s] = portableCosSin2Pi(u);
      expect(Math.abs(c - Math.cos(2 * Math.PI * u))).toBeLessThan(1e-15);
      expect(Math.abs(s - Math.sin(2 * Math.PI * u))).toBeLessThan(1e-15);
    }
  });
});
