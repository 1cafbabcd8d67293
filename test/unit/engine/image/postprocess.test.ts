import { describe, expect, test } from 'vitest';
import { ImageError } from '../../../../src-main/engine/image/image-error.ts';
import { decodedToRgb, resizeBilinear, type PlanarImage } from '../../../../src-main/engine/image/postprocess.ts';
import { roundHalfEven } from '../../../../src-main/engine/image/round-half-even.ts';

const planar = (channels: number, height: number, width: number, values: number[]): PlanarImage => ({
  channels,
  height,
  width,
  data: Float32Array.from(values),
});

describe('resizeBilinear (torch, align_corners=false, no antialias)', () => {
  test('2× upsampling of [0, 1]: source coords −0.25 (clamped), 0.25, 0.75, 1.25 → 0, 0.25, 0.75, 1', () => {
    expect(Array.from(resizeBilinear(planar(1, 1, 2, [0, 1]), 1, 4).data)).toEqual([0, 0.25, 0.75, 1]);
  });

  test('2× downsampling averages pairs without antialias (source coords 0.5, 2.5)', () => {
    expect(Array.from(resizeBilinear(planar(1, 4, 1, [0, 1, 2, 3]), 2, 1).data)).toEqual([0.5, 2.5]);
  });

  test('both axes and channels: matches a float64 restatement of the torch formula', () => {
    const src = planar(
      2,
      3,
      5,
      Array.from({ length: 30 }, (_, i) => Math.sin(i) * 3),
    );
    const out = resizeBilinear(src, 7, 4);
    const at = (c: number, y: number, x: number) => src.data[(c * 3 + y) * 5 + x]!;
    const tap = (i: number, inSize: number, outSize: number) => {
      const s = Math.max((i + 0.5) * (inSize / outSize) - 0.5, 0);
      const i0 = Math.floor(s);
      return [i0, Math.min(i0 + 1, inSize - 1), s - i0] as const;
    };
    let worst = 0;
    for (let c = 0; c < 2; c++)
      for (let y = 0; y < 7; y++)
        for (let x = 0; x < 4; x++) {
          const [y0, y1, fy] = tap(y, 3, 7);
          const [x0, x1, fx] = tap(x, 5, 4);
          const want =
            (1 - fy) * ((1 - fx) * at(c, y0, x0) + fx * at(c, y0, x1)) +
            fy * ((1 - fx) * at(c, y1, x0) + fx * at(c, y1, x1));
          worst = Math.max(worst, Math.abs(out.data[(c * 7 + y) * 4 + x]! - want));
        }
    expect(worst).toBeLessThan(1e-6); // float32 arithmetic vs float64: measured worst 3.2e-7
  });

  test('same size is the identity', () => {
    const src = planar(3, 2, 2, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(resizeBilinear(src, 2, 2).data)).toEqual(Array.from(src.data));
  });

  test('shape errors are typed', () => {
    expect(() => resizeBilinear(planar(1, 2, 2, [1, 2, 3]), 4, 4)).toThrow(ImageError);
    expect(() => resizeBilinear(planar(1, 1, 2, [1, 2]), 0, 4)).toThrow(/positive/);
  });
});

describe('decodedToRgb (§5.9)', () => {
  test('clamp(x/2 + 0.5)·255 rounded, planar → HWC', () => {
    // channel planes: R = [−1, 1], G = [−3, 3] (clamped), B = [0, NaN]
    const rgb = decodedToRgb(planar(3, 1, 2, [-1, 1, -3, 3, 0, Number.NaN]));
    expect(Array.from(rgb.data)).toEqual([0, 0, 128, 255, 255, 0]);
    expect([rgb.width, rgb.height]).toEqual([2, 1]);
  });

  test('rounding ties go to even, like numpy', () => {
    expect([0.5, 1.5, 2.5, 3.5, 254.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, 254, 2, 3]);
    // x with x/2 + 0.5 = 0.5 + k/510 hits k + 0.5 after ×255 only approximately in float32; check the
    // quantiser agrees with round-half-even of the float32 product for a dense sweep
    const xs = Array.from({ length: 2001 }, (_, i) => -1 + i / 1000);
    const rgb = decodedToRgb(planar(3, 1, xs.length, [...xs, ...xs, ...xs]));
    xs.forEach((x, i) => {
      const unit = Math.min(Math.max(Math.fround(Math.fround(x) / 2 + 0.5), 0), 1);
      expect(rgb.data[i * 3]).toBe(roundHalfEven(Math.fround(unit * 255)));
    });
  });

  test('needs 3 channels', () => {
    expect(() => decodedToRgb(planar(1, 1, 1, [0]))).toThrow(/3 channels/);
  });
});
