import { describe, expect, test } from 'vitest';
import {
  MASKED_KEY_BIAS,
  invertPermutation,
  patchPosition,
  visionRotaryTable,
  visionWindowLayout,
  windowBatch,
  windowTokenOrder,
  type PatchGrid,
} from '../../../../src-main/engine/models/qwen-vision.ts';

/**
 * transformers' `get_window_index` for one frame, step by step: pad the unit grid with −100 by
 * (u − n mod u) on the right and bottom (a whole extra window row/column when n divides evenly), cut it
 * into u×u windows row-major, drop the padding, cumsum the window sizes × m², `unique_consecutive`.
 */
function referenceWindowIndex(
  unitRows: number,
  unitCols: number,
  u: number,
  mergeUnit: number,
): { index: number[]; cu: number[] } {
  const padH = u - (unitRows % u);
  const padW = u - (unitCols % u);
  const H = unitRows + padH;
  const W = unitCols + padW;
  const padded = (r: number, c: number) => (r < unitRows && c < unitCols ? r * unitCols + c : -100);
  const index: number[] = [];
  const cu = [0];
  for (let wy = 0; wy < H / u; wy++) {
    for (let wx = 0; wx < W / u; wx++) {
      let count = 0;
      for (let r = 0; r < u; r++) {
        for (let c = 0; c < u; c++) {
          const v = padded(wy * u + r, wx * u + c);
          if (v !== -100) {
            index.push(v);
            count++;
          }
        }
      }
      cu.push(cu.at(-1)! + count * mergeUnit);
    }
  }
  return { index, cu: cu.filter((v, i) => i === 0 || v !== cu[i - 1]) };
}

const grids: PatchGrid[] = [
  { rows: 16, cols: 12 }, // the golden case: 8×6 units, edge windows 4×2
  { rows: 16, cols: 16 }, // divides evenly: the reference's all-padding windows must vanish
  { rows: 2, cols: 2 },
  { rows: 6, cols: 10 },
  { rows: 30, cols: 2 },
  { rows: 74, cols: 74 }, // a 1036² image
];

describe('window layout (§2.4 step 3, get_window_index)', () => {
  test.each(grids)('$rows×$cols patches equals the padded reference algorithm for windows of 1–4 units', (grid) => {
    for (const u of [1, 3, 4]) {
      const layout = visionWindowLayout(grid, { mergeSize: 2, windowUnits: u });
      const ref = referenceWindowIndex(grid.rows / 2, grid.cols / 2, u, 4);
      expect(Array.from(layout.unitOrder)).toEqual(ref.index);
      expect(Array.from(layout.cuSeqlens)).toEqual(ref.cu);
    }
  });

  test('the golden 16×12 grid: four windows of 16, 8, 16 and 8 units', () => {
    const layout = visionWindowLayout({ rows: 16, cols: 12 }, { mergeSize: 2, windowUnits: 4 });
    expect(Array.from(layout.cuSeqlens)).toEqual([0, 64, 96, 160, 192]);
    expect(Array.from(layout.unitOrder.subarray(0, 24))).toEqual([
      0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 21, 4, 5, 10, 11, 16, 17, 22, 23,
    ]);
  });

  test.each(grids)('$rows×$cols: the permutation is a bijection and its inverse restores the order', (grid) => {
    const layout = visionWindowLayout(grid, { mergeSize: 2, windowUnits: 4 });
    for (const p of [layout.unitOrder, windowTokenOrder(layout, 4)]) {
      const inverse = invertPermutation(p);
      expect(new Set(p).size).toBe(p.length);
      expect(Array.from(inverse, (k) => p[k])).toEqual(Array.from(p, (_, i) => i));
      expect(Array.from(p, (v) => inverse[v])).toEqual(Array.from(p, (_, i) => i));
    }
  });

  test('the token order moves whole merge units and keeps their patches in order', () => {
    const order = windowTokenOrder(visionWindowLayout({ rows: 4, cols: 12 }, { mergeSize: 2, windowUnits: 4 }), 4);
    expect(Array.from(order.subarray(0, 20))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27,
    ]);
  });

  test('invertPermutation refuses what is not a permutation', () => {
    expect(() => invertPermutation(Int32Array.of(0, 2, 2))).toThrow(/entry 2 is 2/);
    expect(() => invertPermutation(Int32Array.of(0, 3, 1))).toThrow(/entry 1 is 3/);
  });

  test('grids that are not multiples of the merge size are refused', () => {
    expect(() => visionWindowLayout({ rows: 15, cols: 12 }, { mergeSize: 2, windowUnits: 4 })).toThrow(RangeError);
    expect(() => visionRotaryTable({ rows: 0, cols: 12 }, { mergeSize: 2, pairs: 40, theta: 10000 })).toThrow(
      RangeError,
    );
  });
});

describe('padded window batch', () => {
  test.each(grids)(
    '$rows×$cols: every token sits in exactly one real slot of its window; padding keys are masked',
    (grid) => {
      const layout = visionWindowLayout(grid, { mergeSize: 2, windowUnits: 4 });
      const batch = windowBatch(layout, 4);
      const order = windowTokenOrder(layout, 4);
      const cu = layout.cuSeqlens;
      expect(batch.windows).toBe(cu.length - 1);
      expect(batch.width).toBe(Math.max(...Array.from(cu.subarray(1), (v, b) => v - cu[b]!)));
      for (let b = 0; b < batch.windows; b++) {
        const length = cu[b + 1]! - cu[b]!;
        for (let i = 0; i < batch.width; i++) {
          const slot = b * batch.width + i;
          const token = batch.gather[slot]!;
          expect(token).toBe(order[cu[b]! + (i < length ? i : 0)]); // padding repeats the window's first token
          if (i < length) expect(batch.scatter[token]).toBe(slot);
          for (const q of [0, batch.width - 1])
            expect(batch.bias[(b * batch.width + q) * batch.width + i]).toBe(i < length ? 0 : MASKED_KEY_BIAS);
        }
      }
    },
  );
});

describe('2-D rotary table (§2.4 step 2)', () => {
  test('tokens follow the processor order: 2×2 units row-major, patches row-major inside', () => {
    const grid = { rows: 4, cols: 6 };
    expect([0, 1, 2, 3, 4, 11, 12, 23].map((n) => patchPosition(n, grid, 2))).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 2],
      [1, 5],
      [2, 0],
      [3, 5],
    ]);
  });

  test('angles are [row·f_j, col·f_j] with f_j = 10000^(−2j/40) for the 80-wide heads of the real model', () => {
    const grid = { rows: 6, cols: 8 };
    const table = visionRotaryTable(grid, { mergeSize: 2, pairs: 40, theta: 10000 });
    expect(table.tokens).toBe(48);
    expect(Array.from(table.cos.subarray(0, 40))).toEqual(new Array(40).fill(1));
    for (let n = 0; n < table.tokens; n++) {
      const [row, col] = patchPosition(n, grid, 2);
      for (let j = 0; j < 20; j++) {
        const f = 10000 ** (-j / 20);
        expect(table.cos[n * 40 + j]).toBeCloseTo(Math.cos(row * f), 6);
        expect(table.sin[n * 40 + j]).toBeCloseTo(Math.sin(row * f), 6);
        expect(table.cos[n * 40 + 20 + j]).toBeCloseTo(Math.cos(col * f), 6);
        expect(table.sin[n * 40 + 20 + j]).toBeCloseTo(Math.sin(col * f), 6);
      }
    }
  });
});
