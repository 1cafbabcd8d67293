import { describe, expect, test } from 'vitest';
import { concatRopeTables, omniRopeIds, omniRopeTable } from '../../../../src-main/engine/sampling/omni-rope.ts';

const triples = (p: Int32Array) =>
  Array.from({ length: p.length / 3 }, (_, n) => [p[3 * n], p[3 * n + 1], p[3 * n + 2]]);

describe('omniRopeIds (§4.1)', () => {
  test('the specification example: L = 100, refs 48×64 and 64×64, output 64×64 → ids 100, 164, 228', () => {
    const ids = omniRopeIds(
      100,
      [
        { rows: 48, cols: 64 },
        { rows: 64, cols: 64 },
      ],
      { rows: 64, cols: 64 },
    );
    expect(triples(ids.text).slice(0, 3)).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(triples(ids.text).at(-1)).toEqual([99, 99, 99]);
    expect(triples(ids.refs[0]!)[0]).toEqual([100, 0, 0]);
    expect(triples(ids.refs[0]!).at(-1)).toEqual([100, 47, 63]);
    expect(triples(ids.refs[1]!)[65]).toEqual([164, 1, 1]);
    expect(triples(ids.image)[0]).toEqual([228, 0, 0]);
    expect(ids.image.length / 3).toBe(64 * 64);
  });

  test('without references the output image directly follows the text; coordinates are row-major and local', () => {
    const ids = omniRopeIds(3, [], { rows: 2, cols: 3 });
    expect(ids.refs).toEqual([]);
    expect(triples(ids.image)).toEqual([
      [3, 0, 0],
      [3, 0, 1],
      [3, 0, 2],
      [3, 1, 0],
      [3, 1, 1],
      [3, 1, 2],
    ]);
  });

  test('rejects nonsense sizes', () => {
    expect(() => omniRopeIds(-1, [], { rows: 1, cols: 1 })).toThrow(RangeError);
    expect(() => omniRopeIds(2, [{ rows: 1.5, cols: 1 }], { rows: 1, cols: 1 })).toThrow(/ref 0 rows/);
  });
});

describe('omniRopeTable (§4.2–4.3)', () => {
  test('axis a owns the pair columns after the previous axes; pair j turns by pos·10000^(−2j/d_a)', () => {
    const t = omniRopeTable(Int32Array.of(7, 2, 5), [4, 2, 6]);
    expect(t.pairs).toBe(6);
    const want = [7 * 1, 7 * 10000 ** -0.5, 2 * 1, 5 * 1, 5 * 10000 ** (-2 / 6), 5 * 10000 ** (-4 / 6)];
    want.forEach((angle, k) => {
      expect(t.cos[k]).toBeCloseTo(Math.cos(angle), 6);
      expect(t.sin[k]).toBeCloseTo(Math.sin(angle), 6);
    });
  });

  test('concatenation keeps token order', () => {
    const a = omniRopeTable(Int32Array.of(1, 1, 1), [2, 2, 2]);
    const b = omniRopeTable(Int32Array.of(4, 0, 3, 4, 1, 0), [2, 2, 2]);
    const joint = concatRopeTables([a, b], 3);
    expect(joint.tokens).toBe(3);
    expect(Array.from(joint.sin.subarray(3, 9))).toEqual(Array.from(b.sin));
    expect(() => concatRopeTables([a], 4)).toThrow(/3 pairs, expected 4/);
  });

  test('rejects odd or missing axes', () => {
    expect(() => omniRopeTable(Int32Array.of(0, 0, 0), [3, 2, 2])).toThrow(RangeError);
    expect(() => omniRopeTable(Int32Array.of(0, 0), [2, 2, 2])).toThrow(/\[n, 3\]/);
  });
});
