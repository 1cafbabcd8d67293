import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DitModel } from '../../src-main/engine/models/dit.ts';
import type { DitStepCacheStats } from '../../src-main/engine/models/dit.ts';
import { denoise } from '../../src-main/engine/pipeline/denoise.ts';
import type { GuidanceBranch } from '../../src-main/engine/sampling/guidance.ts';
import { SeededRng } from '../../src-main/engine/sampling/rng.ts';
import { goldenDir } from '../helpers/golden.ts';

describe('TeaCache and TaylorSeer in the sampling loop (golden tiny DiT)', () => {
  let dit: DitModel;
  beforeAll(async () => {
    dit = await DitModel.load(goldenDir());
  });
  afterAll(() => dit?.release());

  async function run(acceleration?: Parameters<typeof denoise>[0]['acceleration']) {
    const rng = new SeededRng(5);
    const F = dit.config.textFeatDim;
    const prompt = await dit.embedText(rng.fillNormal(new Float32Array(8 * F)), 8);
    const negative = await dit.embedText(rng.fillNormal(new Float32Array(4 * F)), 4);
    let stats: Partial<Record<GuidanceBranch, DitStepCacheStats>> = {};
    const latent = await denoise({
      dit,
      initial: { data: rng.fillNormal(new Float32Array(16 * 8 * 8)), dims: [16, 8, 8] },
      steps: 12,
      scheduler: 'euler',
      guidance: { textScale: 4, imageScale: 1, cfgRange: [0, 1] },
      branches: { prompt, negative, refs: [] },
      ...(acceleration ? { acceleration } : {}),
      onCacheStats: (s) => {
        stats = s;
      },
    });
    return { latent, stats };
  }

  test('TaylorSeer runs the main layers on the official schedule per branch (calls 0–4, then every 3rd)', async () => {
    const exact = await run();
    const seer = await run({ kind: 'taylorseer' });
    // §6.2: full at 0,1,2,3,4,7,10 of 12 calls; each CFG branch keeps its own counter.
    expect(seer.stats).toEqual({ cond: { calls: 12, computed: 7 }, uncond: { calls: 12, computed: 7 } });
    expect(seer.latent.every(Number.isFinite)).toBe(true);
    expect(seer.latent).not.toEqual(exact.latent);
  });

  test('TeaCache with threshold 0 computes every call here and equals the uncached loop', async () => {
    const exact = await run();
    const tea = await run({ kind: 'teacache', threshold: 0 });
    expect(tea.stats.cond).toEqual({ calls: 12, computed: 12 });
    let worst = 0;
    for (let i = 0; i < exact.latent.length; i++) worst = Math.max(worst, Math.abs(exact.latent[i]! - tea.latent[i]!));
    expect(worst).toBeLessThan(1e-5);
  });
});
