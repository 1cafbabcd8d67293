import { describe, expect, test } from 'vitest';
import { DitStepCache, type MainStackCall } from '../../../../src-main/engine/models/dit.ts';

/**
 * A fake transformer call over S = 3 tokens of D = 2 (the last N = 2 are image tokens): j = base + token
 * index, m = j·scale, and the "main layers" add `layerShift` to j. Records which pieces ran.
 */
function fakeCall(
  o: { step?: number; base: number; scale?: number; layerShift?: number },
  log: string[],
): MainStackCall {
  const joint = Float32Array.from({ length: 6 }, (_, k) => o.base + k);
  return {
    step: o.step,
    imageValues: 4,
    joint: async () => {
      log.push('joint');
      return { joint, modulated: joint.map((v) => v * (o.scale ?? 1)) };
    },
    layers: async (j) => {
      log.push('layers');
      return j.map((v) => v + (o.layerShift ?? 100));
    },
  };
}

describe('DitStepCache with TeaCache (§6.1)', () => {
  test('a skipped call returns j + R over the image tokens, with R from the last computed call', async () => {
    const cache = new DitStepCache({ kind: 'teacache', threshold: 1e9 }, 4);
    const log: string[] = [];
    // step 0 always computes: out = j + 100 on the image tokens (values 2..5 of j = 10..15)
    expect(Array.from(await cache.mainStack(fakeCall({ step: 0, base: 10 }, log)))).toEqual([112, 113, 114, 115]);
    // step 1: huge threshold → skip; j' = 20.. so j' + R = j' + 100 on the tail, whatever the layers would give
    expect(Array.from(await cache.mainStack(fakeCall({ step: 1, base: 20, layerShift: -1 }, log)))).toEqual([
      122, 123, 124, 125,
    ]);
    expect(log).toEqual(['joint', 'layers', 'joint']);
    // the last step always computes
    expect(Array.from(await cache.mainStack(fakeCall({ step: 3, base: 20, layerShift: -1 }, log)))).toEqual([
      21, 22, 23, 24,
    ]);
    expect(cache.stats).toEqual({ calls: 3, computed: 2 });
  });

  test('with threshold 0 and changes of δ ≥ 0.014 (poly(δ) > 0) every step computes', async () => {
    const cache = new DitStepCache({ kind: 'teacache', threshold: 0 }, 5);
    const log: string[] = [];
    for (let step = 0; step < 5; step++) await cache.mainStack(fakeCall({ step, base: 10, scale: 1.1 ** step }, log));
    expect(log.filter((p) => p === 'layers')).toHaveLength(5);
    expect(cache.stats).toEqual({ calls: 5, computed: 5 });
  });

  test('the official default threshold is 0.05 and TeaCache needs the step index', async () => {
    const cache = new DitStepCache({ kind: 'teacache' }, 10);
    await expect(cache.mainStack(fakeCall({ base: 1 }, []))).rejects.toThrow(/step index/);
    const log: string[] = [];
    await cache.mainStack(fakeCall({ step: 0, base: 10 }, log));
    // δ = 0.03 → poly(0.03) ≈ 0.038 < 0.05: skip; the next one accumulates to ≈ 0.076: compute
    await cache.mainStack(fakeCall({ step: 1, base: 10, scale: 1.03 }, log));
    await cache.mainStack(fakeCall({ step: 2, base: 10, scale: 1.03 ** 2 }, log));
    expect(log).toEqual(['joint', 'layers', 'joint', 'joint', 'layers']);
  });
});

describe('DitStepCache with TaylorSeer (§6.2)', () => {
  test('calls 0–4 are full, then every 3rd; Taylor calls run neither the embeddings nor the layers', async () => {
    const cache = new DitStepCache({ kind: 'taylorseer' }, 12);
    const full: number[] = [];
    for (let s = 0; s < 12; s++) {
      const log: string[] = [];
      await cache.mainStack(fakeCall({ base: s }, log));
      if (log.length > 0) {
        expect(log).toEqual(['joint', 'layers']);
        full.push(s);
      }
    }
    expect(full).toEqual([0, 1, 2, 3, 4, 7, 10]);
    expect(cache.stats).toEqual({ calls: 12, computed: 7 });
  });

  test('a feature linear in the call index is extrapolated exactly on Taylor calls', async () => {
    const cache = new DitStepCache({ kind: 'taylorseer' }, 8);
    const outs: number[][] = [];
    for (let s = 0; s < 7; s++) outs.push(Array.from(await cache.mainStack(fakeCall({ base: 3 * s }, []))));
    // image tail of j + 100 = 3s + 102 … 3s + 105, also on the Taylor calls 5 and 6
    outs.forEach((o, s) =>
      expect(
        o.map((v) => Math.round(v * 1e4) / 1e4),
        `call ${s}`,
      ).toEqual([102, 103, 104, 105].map((v) => v + 3 * s)),
    );
  });

  test('an image size change within one branch is refused', async () => {
    const cache = new DitStepCache({ kind: 'taylorseer' }, 8);
    for (let s = 0; s < 5; s++) await cache.mainStack(fakeCall({ base: s }, []));
    await expect(cache.mainStack({ ...fakeCall({ base: 0 }, []), imageValues: 2 })).rejects.toThrow(
      /image size changed/,
    );
    expect(() => new DitStepCache({ kind: 'taylorseer' }, 0)).toThrow(RangeError);
  });
});
