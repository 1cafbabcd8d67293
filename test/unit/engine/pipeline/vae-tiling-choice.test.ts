import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDitConfig } from '../../../../src-main/engine/models/dit/config.ts';
import { parseVaeConfig } from '../../../../src-main/engine/models/vae/config.ts';
import { DEFAULT_VAE_TILES } from '../../../../src-main/engine/models/vae/tiling.ts';
import { VaeModel } from '../../../../src-main/engine/models/vae.ts';
import {
  vaeDecoderActivationBytes,
  vaeTiledDecoderActivationBytes,
} from '../../../../src-main/engine/pipeline/activation-estimate.ts';
import {
  adviseFit,
  estimateMemory,
  type EstimateRequest,
  type ModelConfigs,
} from '../../../../src-main/engine/pipeline/memory-estimate.ts';
import {
  GPU_VAE_BUDGET_BYTES,
  chooseVaeTiles,
  defaultVaeBudget,
  loadVaeCodec,
} from '../../../../src-main/engine/pipeline/vae-codec.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { uniformStream } from '../models/vae-fixtures.ts';
import { REAL_DIT_CONFIG, REAL_VAE_CONFIG } from './real-configs.ts';

const fluxVae = parseVaeConfig(REAL_VAE_CONFIG);
const real: ModelConfigs = { dit: parseDitConfig(REAL_DIT_CONFIG), vae: fluxVae, text: null, vision: null };
const job = (o: Partial<EstimateRequest> = {}): EstimateRequest => ({
  width: 1024,
  height: 1024,
  referenceImages: 0,
  precision: 'fp32',
  mode: 'low-memory',
  ...o,
});
const GiB = 2 ** 30;

describe('tiled VAE in the memory estimate', () => {
  test('a FLUX VAE decode at 1024²: tiled activations are about a quarter of untiled', () => {
    const o = {
      latentWidth: 128,
      latentHeight: 128,
      actBytes: 4,
      attention: { kernel: 'materialised', queryChunks: 4 } as const,
    };
    const untiled = vaeDecoderActivationBytes(fluxVae, o),
      tiled = vaeTiledDecoderActivationBytes(fluxVae, { ...o, tile: DEFAULT_VAE_TILES.tile });
    console.log(
      `FLUX VAE decode 1024² fp32 activations: untiled ${(untiled / GiB).toFixed(2)} GiB, tiled (64-latent tiles) ${(tiled / GiB).toFixed(2)} GiB`,
    );
    expect(untiled / GiB).toBeCloseTo(4.0, 1);
    expect(tiled).toBeLessThan(untiled * 0.3);
  });

  test('auto keeps the decode untiled without a budget, tiles it when its stage would not fit, and never/always force it', () => {
    const decoder = (r: EstimateRequest) =>
      estimateMemory(real, r).components.find((c) => c.component === 'vae-decoder')!;
    const free = decoder(job());
    expect(free.vaeTiles!.tiled).toBe(false);
    expect(free.activationsBytes).toBe(free.vaeTiles!.untiledBytes);
    // low-memory: the decode stage holds only the VAE; a 3 GB budget is below its untiled peak, above its tiled one
    const tight = decoder(job({ budgetBytes: 3e9 }));
    expect(tight.vaeTiles!.tiled).toBe(true);
    expect(tight.activationsBytes).toBe(tight.vaeTiles!.tiledBytes);
    expect(decoder(job({ budgetBytes: 3e9, vaeTiling: 'never' })).vaeTiles!.tiled).toBe(false);
    expect(decoder(job({ vaeTiling: 'always' })).vaeTiles!.tiled).toBe(true);
    const stage = (r: EstimateRequest) => estimateMemory(real, r).stages.find((s) => s.stage === 'decode')!.bytes;
    expect(stage(job({ budgetBytes: 3e9 }))).toBeLessThan(3e9);
    expect(stage(job())).toBeGreaterThan(3e9);
  });

  test('references: the encode stage is tiled on its own when it alone would not fit', () => {
    const e = estimateMemory(real, job({ referenceImages: 1, budgetBytes: 4e9 }));
    const encoder = e.components.find((c) => c.component === 'vae-encoder')!;
    expect(encoder.vaeTiles!.untiledBytes).toBeGreaterThan(encoder.vaeTiles!.tiledBytes);
    expect(encoder.vaeTiles!.tiled).toBe(encoder.weightsBytes + encoder.vaeTiles!.untiledBytes > 4e9);
  });

  test('adviseFit counts the tiled decode: a budget between tiled and untiled decode peaks fits', () => {
    const untiledPeak = estimateMemory(real, job({ vaeTiling: 'never' })).stages.find(
      (s) => s.stage === 'decode',
    )!.bytes;
    const dit = estimateMemory(real, job()).stages.find((s) => s.stage === 'denoise')!.bytes;
    // with the DiT's stage below it, a machine too small for the untiled decode still fits the job
    if (dit < untiledPeak * 0.95) expect(adviseFit(real, job(), (untiledPeak * 0.95) / 0.9).fits).toBe(true);
  });
});

describe('automatic choice per VAE call', () => {
  const tiles = DEFAULT_VAE_TILES,
    attention = { kernel: 'explicit', queryChunks: 4 } as const;
  const choose = (tiling: 'auto' | 'always' | 'never', budgetBytes: number, size = 1024) =>
    chooseVaeTiles(fluxVae, { kind: 'decode', width: size, height: size }, { tiling, budgetBytes, attention, tiles });

  test('auto tiles a decode whose estimate exceeds the budget, not one that fits or is one tile anyway', () => {
    expect(choose('auto', 3e9)).toEqual(tiles);
    expect(choose('auto', 64e9)).toBeUndefined();
    expect(choose('auto', 1, 512)).toBeUndefined();
    expect(choose('always', 64e9)).toEqual(tiles);
    expect(choose('never', 1)).toBeUndefined();
    expect(
      chooseVaeTiles(
        fluxVae,
        { kind: 'encode', width: 1024, height: 1024 },
        { tiling: 'auto', budgetBytes: 1e9, attention, tiles },
      ),
    ).toEqual(tiles);
  });

  test("the budget: GPU providers plan on the 3 GB VAE target, the CPU on this machine's RAM", () => {
    expect(defaultVaeBudget(['webgpu'])).toBe(GPU_VAE_BUDGET_BYTES);
    expect(defaultVaeBudget(['cpu'])).toBeGreaterThan(GPU_VAE_BUDGET_BYTES / 10);
  });

  test('the codec decodes in tiles when the budget is small, untiled when it is large', async () => {
    const dir = join(goldenDir(), 'vae');
    const next = uniformStream(11);
    const latent = { data: Float32Array.from({ length: 16 * 32 * 32 }, () => 2 * next() - 1), dims: [16, 32, 32] };
    const small = { tile: 16, overlap: 4 };
    const tiled = await loadVaeCodec(dir, { budgetBytes: 1, tiles: small });
    const untiled = await loadVaeCodec(dir, { tiling: 'never', tiles: small });
    const vae = await VaeModel.load(dir, dir);
    try {
      const a = await tiled.decode(latent),
        b = await untiled.decode(latent);
      const direct = await vae.decodeScaled({ data: latent.data, dims: [1, 16, 32, 32] }, small);
      expect(Array.from(a.data)).toEqual(Array.from(direct.data));
      expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
      const high = await loadVaeCodec(dir, { budgetBytes: 1e12, tiles: small });
      expect(Array.from((await high.decode(latent)).data)).toEqual(Array.from(b.data));
      await high.release();
    } finally {
      await Promise.all([tiled.release(), untiled.release(), vae.release()]);
    }
  });
});
