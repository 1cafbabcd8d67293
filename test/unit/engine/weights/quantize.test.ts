import { describe, expect, test } from 'vitest';
import {
  dequantizeRows,
  packedRowBytes,
  quantBlocks,
  quantizeRows,
} from '../../../../src-main/engine/weights/quantize.ts';

function normals(n: number, seed: number): Float32Array {
  let s = seed;
  const u = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s + 0.5) / 2 ** 31;
  };
  return Float32Array.from({ length: n }, () => 0.02 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('blockwise symmetric quantisation (MatMulNBits layout)', () => {
  test('layout sizes: blocks round up, 4-bit packs two codes a byte', () => {
    expect(quantBlocks(2520, 32)).toBe(79);
    expect(packedRowBytes(2520, { bits: 4, blockSize: 32 })).toBe(79 * 16);
    expect(packedRowBytes(2520, { bits: 8, blockSize: 64 })).toBe(40 * 64);
  });

  test('codes: the largest-magnitude value maps to −2^(bits−1) exactly; low nibble first; padding is the zero code', () => {
    // one row, K = 3 < block 16: values 0.5, −1, 0.25 → scale = −1 / −8 = 0.125 → codes 4+8, −8+8, 2+8
    const q = quantizeRows(Float32Array.of(0.5, -1, 0.25), 1, 3, { bits: 4, blockSize: 16 });
    expect(Array.from(q.scales)).toEqual([0.125]);
    expect(q.packed.length).toBe(8);
    expect(q.packed[0]).toBe(12 | (0 << 4));
    expect(q.packed[1]).toBe(10 | (8 << 4)); // code 10, then the first padding code 8
    expect(Array.from(q.packed.subarray(2))).toEqual(Array(6).fill(0x88));
    expect(Array.from(dequantizeRows(q, 1, 3, { bits: 4, blockSize: 16 }))).toEqual([0.5, -1, 0.25]);
  });

  test('8-bit codes are one byte each, offset by 128', () => {
    const q = quantizeRows(Float32Array.of(2, -1, 0), 1, 3, { bits: 8, blockSize: 16 });
    expect(q.scales[0]).toBeCloseTo(-2 / 128, 7);
    expect(Array.from(q.packed.subarray(0, 3))).toEqual([0, 128 + 64, 128]);
  });

  test.each([
    [4, 32],
    [4, 64],
    [8, 64],
  ] as const)(
    '%i-bit, block %i: error ≤ half a step (one step where clamped), relative RMS as expected for N(0, σ)',
    (bits, blockSize) => {
      const rows = 7,
        cols = 200; // 200 is not a multiple of the block
      const w = normals(rows * cols, bits * blockSize);
      const q = quantizeRows(w, rows, cols, { bits, blockSize });
      const back = dequantizeRows(q, rows, cols, { bits, blockSize });
      const blocks = quantBlocks(cols, blockSize);
      for (let i = 0; i < w.length; i++) {
        const scale = q.scales[Math.floor(i / cols) * blocks + Math.floor((i % cols) / blockSize)]!;
        const clamped = w[i]! / scale > 2 ** (bits - 1) - 0.5;
        expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(Math.abs(scale) * (clamped ? 1 : 0.5) + 1e-9);
      }
      const rel = Math.sqrt(q.sqError / q.sqNorm);
      // uniform rounding error step/√12 with step ≈ 2.5σ/2^(bits−1): ≈ 9 % at 4 bits, ≈ 0.6 % at 8 bits
      expect(rel).toBeLessThan(bits === 4 ? 0.11 : 0.008);
      expect(rel).toBeGreaterThan(bits === 4 ? 0.06 : 0.003);
    },
  );

  test('all-zero blocks get scale 0 and the zero code', () => {
    const q = quantizeRows(new Float32Array(32), 1, 32, { bits: 4, blockSize: 32 });
    expect(q.scales[0]).toBe(0);
    expect(Array.from(dequantizeRows(q, 1, 32, { bits: 4, blockSize: 32 })).every((v) => v === 0)).toBe(true);
  });

  test('rejects layouts MatMulNBits does not take', () => {
    expect(() => quantizeRows(new Float32Array(4), 1, 4, { bits: 4, blockSize: 24 })).toThrow(/power of two/);
    expect(() => quantizeRows(new Float32Array(4), 1, 4, { bits: 3 as 4, blockSize: 32 })).toThrow(/4 or 8/);
  });
});
