import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  VaeModel,
  axisWeights,
  runTiled,
  tileGrid,
  tileStarts,
  type VaeTensor,
} from '../../../../src-main/engine/models/vae.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { FLUX_VAE_CONFIG, uniformStream, writeSyntheticVae } from './vae-fixtures.ts';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'atelier-vae-tiling-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function random(dims: number[], seed: number, amplitude = 1): VaeTensor {
  const next = uniformStream(seed);
  return {
    data: Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, () => amplitude * (2 * next() - 1)),
    dims,
  };
}

/** Largest and mean absolute difference, relative to the reference's largest magnitude. */
function difference(a: VaeTensor, b: VaeTensor): { max: number; mean: number; scale: number } {
  expect(a.dims).toEqual(b.dims);
  let max = 0,
    sum = 0,
    scale = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    max = Math.max(max, d);
    sum += d;
    scale = Math.max(scale, Math.abs(b.data[i]!));
  }
  return { max, mean: sum / a.data.length, scale };
}

describe('tile grid', () => {
  test('one tile when the input fits; otherwise even starts, flush with both ends, overlapping by at least the overlap', () => {
    expect(tileStarts(10, 16, 4)).toEqual([0]);
    expect(tileStarts(16, 16, 4)).toEqual([0]);
    expect(tileStarts(32, 16, 4)).toEqual([0, 8, 16]);
    expect(tileStarts(128, 64, 16)).toEqual([0, 32, 64]);
    for (const [length, tile, overlap] of [
      [17, 16, 4],
      [100, 64, 16],
      [129, 64, 16],
      [200, 48, 7],
      [1000, 64, 63],
    ] as const) {
      const s = tileStarts(length, tile, overlap);
      expect(s[0]).toBe(0);
      expect(s.at(-1)! + tile).toBe(length);
      for (let i = 1; i < s.length; i++) expect(s[i - 1]! + tile - s[i]!).toBeGreaterThanOrEqual(overlap);
      // no tile is redundant: one fewer could not keep the overlap
      expect((s.length - 2) * (tile - overlap) + tile).toBeLessThan(length);
    }
    expect(() => tileStarts(32, 16, 16)).toThrow(RangeError);
    expect(() => tileStarts(32, 16, -1)).toThrow(RangeError);
  });

  test('a grid aligned to the downscale factor starts on its multiples', () => {
    expect(tileGrid(256, 96, 128, 32, 8)).toEqual({ rows: [0, 64, 128], cols: [0], height: 128, width: 96 });
    expect(() => tileGrid(256, 100, 128, 32, 8)).toThrow(RangeError);
  });
});

describe('blend weights', () => {
  test('ramps over each shared part, 1 at the image edges, and neighbours sum to 1 across an overlap', () => {
    const starts = tileStarts(32, 16, 4); // [0, 8, 16]: each neighbour shares 8
    const w = starts.map((_, i) => axisWeights(starts, 16, i));
    expect(w[0]![0]).toBe(1);
    expect(w[2]![15]).toBe(1);
    expect(w[1]![0]).toBeCloseTo(0.5 / 8, 6);
    for (let p = 0; p < 32; p++) {
      const total = starts.reduce((a, s, i) => a + (p >= s && p < s + 16 ? w[i]![p - s]! : 0), 0);
      expect(total).toBeCloseTo(1, 6);
    }
  });

  test('the blend is linear across an overlap', () => {
    const w = axisWeights([0, 12], 16, 0); // shares 4 with the next tile
    expect(Array.from(w.subarray(12))).toEqual([3.5 / 4, 2.5 / 4, 1.5 / 4, 0.5 / 4]);
    expect(Array.from(w.subarray(0, 12)).every((v) => v === 1)).toBe(true);
  });
});

describe('runTiled', () => {
  test('an identity run returns the input; a nearest ×2 upsample equals the untiled one', async () => {
    const x = random([2, 3, 37, 50], 1);
    const [same] = await runTiled(x, { tile: 16, overlap: 5, up: 1, down: 1 }, async (t) => [
      { data: t.data.slice(), dims: t.dims },
    ]);
    expect(difference(same!, x).max).toBeLessThan(1e-6);
    const up = (t: VaeTensor): VaeTensor => {
      const [B, C, H, W] = t.dims as number[];
      const data = new Float32Array(B! * C! * H! * W! * 4);
      for (let i = 0; i < data.length; i++) {
        const x2 = i % (2 * W!),
          y2 = Math.floor(i / (2 * W!)) % (2 * H!),
          bc = Math.floor(i / (4 * H! * W!));
        data[i] = t.data[(bc * H! + (y2 >> 1)) * W! + (x2 >> 1)]!;
      }
      return { data, dims: [B!, C!, 2 * H!, 2 * W!] };
    };
    const [tiled] = await runTiled(x, { tile: 16, overlap: 4, up: 2, down: 1 }, async (t) => [up(t)]);
    expect(difference(tiled!, up(x)).max).toBeLessThan(1e-6);
  });

  test('every tile has the same shape, and several outputs blend alike', async () => {
    const shapes = new Set<string>();
    const x = random([1, 4, 64, 40], 2);
    const outs = await runTiled(x, { tile: 16, overlap: 8, align: 8, up: 1, down: 8 }, async (t) => {
      shapes.add(t.dims.join());
      const [B, , H, W] = t.dims as number[];
      const pool = (k: number) => ({
        data: Float32Array.from({ length: B! * 2 * (H! / 8) * (W! / 8) }, () => k),
        dims: [B!, 2, H! / 8, W! / 8],
      });
      return [pool(1), pool(-3)];
    });
    expect([...shapes]).toEqual(['1,4,16,16']);
    expect(outs.map((o) => o.dims)).toEqual([
      [1, 2, 8, 5],
      [1, 2, 8, 5],
    ]);
    expect(outs[1]!.data.every((v) => Math.abs(v + 3) < 1e-6)).toBe(true);
  });
});

// Tiled ≠ untiled: each tile's GroupNorms see only that tile (and the mid-block attention sees only its tokens).
// The worst case is measured: uniform-noise inputs, random golden weights and tiles of half the image. Measured
// (relative to the output's largest magnitude): golden decode 256², 3×3 tiles of 16 latent pixels: max 0.147,
// mean 0.0100; golden encode 256² (posterior mean), 3×3 tiles of 128 px: max 0.182, mean 0.0209. With real FLUX
// channel counts ([128,256,512,512], 32 groups, random weights): decode 96², 2×2 tiles of 8 latent px: max 0.377,
// mean 0.056; decode 256², 3×3 tiles of 16 (measured once, too slow for the suite): max 0.194, mean 0.028.
const TOL = { decodeMax: 0.2, decodeMean: 0.015, encodeMax: 0.25, encodeMean: 0.03, fluxMax: 0.45, fluxMean: 0.07 };

describe('tiled vs untiled VAE', () => {
  test('golden tiny VAE: a 256² decode in 3×3 tiles and a 256² encode in 3×3 tiles', async () => {
    const dir = join(goldenDir(), 'vae');
    const vae = await VaeModel.load(dir, dir);
    try {
      const latent = random([1, 16, 32, 32], 7, 2);
      const whole = await vae.decode(latent);
      const tiled = await vae.decode(latent, { tile: 16, overlap: 4 });
      const d = difference(tiled, whole);
      console.log(
        `golden decode 256² (3×3 tiles of 16, overlap ≥ 4): max ${d.max.toFixed(4)}, mean ${d.mean.toFixed(5)}, output scale ${d.scale.toFixed(3)}`,
      );
      expect(d.max / d.scale).toBeLessThan(TOL.decodeMax);
      expect(d.mean / d.scale).toBeLessThan(TOL.decodeMean);
      const image = random([1, 3, 256, 256], 8);
      const e = difference((await vae.encode(image, { tile: 16, overlap: 4 })).mean, (await vae.encode(image)).mean);
      console.log(
        `golden encode 256² mean (3×3 tiles of 128 px, overlap ≥ 32): max ${e.max.toFixed(4)}, mean ${e.mean.toFixed(5)}, scale ${e.scale.toFixed(3)}`,
      );
      expect(e.max / e.scale).toBeLessThan(TOL.encodeMax);
      expect(e.mean / e.scale).toBeLessThan(TOL.encodeMean);
    } finally {
      await vae.release();
    }
  });

  test('synthetic VAE with FLUX channel counts: a 96² decode in 2×2 tiles of 8 latent pixels', async () => {
    const dir = writeSyntheticVae(join(tmp, 'flux'), FLUX_VAE_CONFIG);
    const vae = await VaeModel.load(dir, dir);
    try {
      const latent = random([1, 16, 12, 12], 5);
      const d = difference(await vae.decode(latent, { tile: 8, overlap: 4 }), await vae.decode(latent));
      console.log(
        `FLUX-channel decode 96² (2×2 tiles of 8): max ${(d.max / d.scale).toFixed(3)}, mean ${(d.mean / d.scale).toFixed(4)} of the output's scale`,
      );
      expect(d.max / d.scale).toBeLessThan(TOL.fluxMax);
      expect(d.mean / d.scale).toBeLessThan(TOL.fluxMean);
    } finally {
      await vae.release();
    }
  }, 120_000); // ≈ 18 s on 2 busy cores: writing and loading 84 M random weights
});
