import { describe, expect, test } from 'vitest';
import {
  continuationPositionIds,
  mropePositionIds,
  mropeRopeTable,
  textPositionIds,
} from '../../../../src-main/engine/sampling/mrope.ts';

const IMG = 9;
const layout = { imageTokenId: IMG, spatialMergeSize: 2 };
/** [3, n] component-major ids as three rows. */
const rows = (ids: Int32Array, n: number) => [0, 1, 2].map((c) => Array.from(ids.subarray(c * n, (c + 1) * n)));

describe('mropePositionIds (§2.3)', () => {
  test('the worked example: 3 text tokens, a 2×2 merged image, 2 text tokens', () => {
    const ids = [1, 2, 3, IMG, IMG, IMG, IMG, 4, 5];
    const p = mropePositionIds(ids, [{ t: 1, h: 4, w: 4 }], layout);
    expect(rows(p.ids, ids.length)).toEqual([
      [0, 1, 2, 3, 3, 3, 3, 5, 6],
      [0, 1, 2, 3, 3, 4, 4, 5, 6],
      [0, 1, 2, 3, 4, 3, 4, 5, 6],
    ]);
    expect(p.ropeDelta).toBe(-2);
  });

  test('a non-square image advances the next text run by its longer side; two images in a row', () => {
    // image 1: patch grid 2×6 → 1 row × 3 cols of merged tokens; image 2: 4×2 → 2 rows × 1 col
    const ok = [7, IMG, IMG, IMG, IMG, IMG, 8];
    const p = mropePositionIds(
      ok,
      [
        { t: 1, h: 2, w: 6 },
        { t: 1, h: 4, w: 2 },
      ],
      layout,
    );
    expect(rows(p.ids, ok.length)).toEqual([
      [0, 1, 1, 1, 4, 4, 6],
      [0, 1, 1, 1, 4, 5, 6],
      [0, 1, 2, 3, 4, 4, 6],
    ]);
    expect(p.ropeDelta).toBe(7 - ok.length);
  });

  test('text only: 0 … n−1 on every component, delta 0, and the same as textPositionIds', () => {
    const p = mropePositionIds([5, 6, 7, 8], [], layout);
    expect(rows(p.ids, 4)).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3],
      [0, 1, 2, 3],
    ]);
    expect(p.ropeDelta).toBe(0);
    expect(textPositionIds(4)).toEqual(p);
  });

  test('continuation: a generated token at sequence index i sits at i + ropeDelta', () => {
    expect(rows(continuationPositionIds(9, 2, -2).ids, 2)).toEqual([
      [7, 8],
      [7, 8],
      [7, 8],
    ]);
  });

  test('images and grids must agree', () => {
    expect(() => mropePositionIds([IMG, IMG], [], layout)).toThrow(/more images/);
    expect(() => mropePositionIds([1], [{ t: 1, h: 2, w: 2 }], layout)).toThrow(/holds 0 images/);
    expect(() => mropePositionIds([IMG, IMG, IMG], [{ t: 1, h: 4, w: 4 }], layout)).toThrow(/needs 4 image tokens/);
    expect(() => mropePositionIds([IMG], [{ t: 1, h: 3, w: 2 }], layout)).toThrow(/merge windows/);
  });
});

describe('mropeRopeTable', () => {
  const o = { headDim: 16, theta: 1e6, section: [2, 3, 3] as const };

  test("slot j turns by its section's component times theta^(−2j/d)", () => {
    const positions = { length: 1, ropeDelta: 0, ids: Int32Array.of(5, 7, 11) };
    const table = mropeRopeTable(positions, o);
    expect([table.tokens, table.pairs]).toEqual([1, 8]);
    const comp = [5, 5, 7, 7, 7, 11, 11, 11];
    for (let j = 0; j < 8; j++) {
      const angle = comp[j]! * 1e6 ** ((-2 * j) / 16);
      expect(Math.abs(table.cos[j]! - Math.cos(angle)), `cos ${j}`).toBeLessThan(1e-6);
      expect(Math.abs(table.sin[j]! - Math.sin(angle)), `sin ${j}`).toBeLessThan(1e-6);
    }
  });

  test('with equal components it is ordinary 1-D RoPE, and position 0 is the identity', () => {
    const table = mropeRopeTable(textPositionIds(3), o);
    expect(Array.from(table.cos.subarray(0, 8))).toEqual(new Array(8).fill(1));
    expect(Array.from(table.sin.subarray(0, 8))).toEqual(new Array(8).fill(0));
    for (let j = 0; j < 8; j++) expect(Math.abs(table.cos[16 + j]! - Math.cos(2 * 1e6 ** (-j / 8)))).toBeLessThan(1e-6);
  });

  test('the sections must fill half the head', () => {
    expect(() => mropeRopeTable(textPositionIds(1), { ...o, section: [2, 3, 2] })).toThrow(/sum to head_dim\/2 = 8/);
  });
});
