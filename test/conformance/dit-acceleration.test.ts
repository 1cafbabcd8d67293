import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DitModel, DitStepCache, type DitItemInputs } from '../../src-main/engine/models/dit.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { closeness, expectClose } from '../helpers/tensors.ts';
import { loadDitCase, moreConditioning, pickItem, type DitCase } from './dit-case.ts';

const cases = goldenCases('transformer', /^case_.*\.safetensors$/).map(loadDitCase);
// The split graphs run the same kernels on the same values; only the graph boundaries differ, and
// onnxruntime may fuse differently across them. Measured worst: 0 (bit-identical); 1e-6 is a small margin.
const SPLIT_TOL = { atol: 1e-6 };
// Against the fp32 reference, as in dit.test.ts.
const FP32_TOL = { atol: 1e-5 };

let dit: DitModel;
beforeAll(async () => {
  dit = await DitModel.load(join(goldenDir(), 'transformer'));
});
afterAll(async () => {
  await dit.release();
});

/** Batch item b of a golden case as a single forwardOne call, with its slice of the golden output. */
async function itemOf(c: DitCase, b: number): Promise<{ item: DitItemInputs; want: Float32Array }> {
  const [, C, h, w] = c.inputs.latents.dims as number[];
  const [, L, F] = c.inputs.textHiddenStates.dims as number[];
  const n = c.items[b]!.textLength;
  const size = C! * h! * w!;
  const text = await dit.embedText(c.inputs.textHiddenStates.data.subarray(b * L! * F!, (b * L! + n) * F!), n);
  const latent = { data: c.inputs.latents.data.subarray(b * size, (b + 1) * size), dims: [C!, h!, w!] };
  return {
    item: { latent, timestep: c.inputs.timestep[b]!, text, refs: c.inputs.refs?.[b] ?? [] },
    want: c.output.data.subarray(b * size, (b + 1) * size),
  };
}

/** The same item with its latent scaled, as a sampling trajectory changes it from step to step. */
function atStep(item: DitItemInputs, t: number): DitItemInputs {
  return { ...item, timestep: t, latent: { data: item.latent.data.map((v) => v * (1 - t)), dims: item.latent.dims } };
}

describe('split main stack (dit_joint_in → dit_layers → dit_final)', () => {
  test('the golden folder has transformer cases', () => expect(cases.length).toBeGreaterThan(0));

  test.each(cases)('$name: a computed call through the split graphs equals the unsplit output', async (c: DitCase) => {
    for (let b = 0; b < c.items.length; b++) {
      const { item, want } = await itemOf(c, b);
      const exact = await dit.forwardOne(item);
      const split = await dit.forwardOne(item, { cache: new DitStepCache({ kind: 'taylorseer' }, 1) }); // call 0 is full
      expectClose(split, exact, SPLIT_TOL, `${c.name}[${b}] split vs unsplit`);
      expectClose(split, want, FP32_TOL, `${c.name}[${b}] split vs golden`);
    }
  });
});

describe('TeaCache in the DiT (§6.1)', () => {
  const steps = [0, 0.2, 0.4, 0.6, 0.8];

  // The cache's decision reads only the modulated input, so the plainest item (fewest references) suffices.
  const plain = () => {
    const { c, b } = pickItem(cases, (x, y) => moreConditioning(y, x));
    return itemOf(c, b);
  };

  test('with threshold 0 every step of a trajectory computes and equals the uncached output', async () => {
    const { item } = await plain();
    const cache = new DitStepCache({ kind: 'teacache', threshold: 0 }, steps.length);
    for (const [i, t] of steps.entries()) {
      const exact = await dit.forwardOne(atStep(item, t));
      expectClose(await dit.forwardOne(atStep(item, t), { cache, step: i }), exact, SPLIT_TOL, `step ${i}`);
    }
    expect(cache.stats).toEqual({ calls: steps.length, computed: steps.length });
  });

  test('a skipped call returns j + R: on unchanged inputs that is the computed output; on new inputs it is not', async () => {
    const { item } = await plain();
    const cache = new DitStepCache({ kind: 'teacache', threshold: 1e9 }, 4);
    const first = await dit.forwardOne(item, { cache, step: 0 });
    expectClose(await dit.forwardOne(item, { cache, step: 1 }), first, SPLIT_TOL, 'skipped call on the same inputs');
    const moved = atStep(item, 0.5);
    const skipped = await dit.forwardOne(moved, { cache, step: 2 });
    expect(cache.stats).toEqual({ calls: 3, computed: 1 });
    expect(
      closeness(skipped, await dit.forwardOne(moved)).maxAbs,
      'a skip reuses R instead of computing',
    ).toBeGreaterThan(1e-4);
  });
});

describe('TaylorSeer in the DiT (§6.2)', () => {
  test('calls 0–4 and then every 3rd run the layers exactly; the others extrapolate', async () => {
    // The item with the most conditioning, so the extrapolated layers carry reference tokens when the set has any.
    const { c, b } = pickItem(cases, moreConditioning);
    const { item } = await itemOf(c, b);
    const calls = 11;
    const cache = new DitStepCache({ kind: 'taylorseer' }, calls);
    const full: number[] = [];
    for (let s = 0; s < calls; s++) {
      const input = atStep(item, s / calls);
      const before = cache.stats.computed;
      const got = await dit.forwardOne(input, { cache, step: s });
      const exact = await dit.forwardOne(input);
      if (cache.stats.computed > before) {
        full.push(s);
        expectClose(got, exact, SPLIT_TOL, `full call ${s}`);
      } else {
        expect(got.every(Number.isFinite), `taylor call ${s} is finite`).toBe(true);
        expect(closeness(got, exact).maxAbs, `taylor call ${s} extrapolates`).toBeGreaterThan(0);
      }
    }
    expect(full).toEqual([0, 1, 2, 3, 4, 7, 10]);
  });
});
