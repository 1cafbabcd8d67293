import { describe, expect, test } from 'vitest';
import { patchify, unpatchify } from '../../../../src-main/engine/models/dit.ts';

describe('patchify / unpatchify (§3.2)', () => {
  const shape = { channels: 3, height: 4, width: 6 };
  const latent = Float32Array.from({ length: 3 * 4 * 6 }, (_, i) => i);
  const at = (ch: number, y: number, x: number) => latent[(ch * 4 + y) * 6 + x]!;

  test('token n = r·(w/2) + c holds latent[ch, 2r+p1, 2c+p2] at (p1·2 + p2)·C + ch', () => {
    const tokens = patchify(latent, shape, 2);
    const dim = 2 * 2 * 3;
    for (const [r, c, p1, p2, ch] of [
      [0, 0, 0, 0, 0],
      [1, 2, 1, 0, 2],
      [0, 1, 1, 1, 1],
      [1, 0, 0, 1, 0],
    ] as const) {
      expect(tokens[(r * 3 + c) * dim + (p1 * 2 + p2) * 3 + ch]).toBe(at(ch, 2 * r + p1, 2 * c + p2));
    }
  });

  test('unpatchify inverts patchify exactly', () => {
    expect(Array.from(unpatchify(patchify(latent, shape, 2), shape, 2))).toEqual(Array.from(latent));
  });

  test('sizes that are not multiples of the patch are refused', () => {
    expect(() => patchify(new Float32Array(3 * 3 * 6), { channels: 3, height: 3, width: 6 }, 2)).toThrow(RangeError);
    expect(() => patchify(new Float32Array(5), shape, 2)).toThrow(/do not fill/);
  });
});
