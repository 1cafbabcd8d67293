import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DitModel, ditRopeTables } from '../../src-main/engine/models/dit.ts';
import { float32ToBf16 } from '../../src-main/engine/weights/dtype.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../src-main/engine/weights/safetensors-writer.ts';
import { WEIGHT_CACHE_FOLDER } from '../../src-main/engine/weights/cache-location.ts';
import type { WeightCacheProgress } from '../../src-main/engine/weights/weight-cache.ts';
import { WeightError } from '../../src-main/engine/weights/weight-error.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { closeness, expectClose } from '../helpers/tensors.ts';
import { loadDitCase, moreConditioning, pickItem, type DitCase } from './dit-case.ts';

const componentDir = join(goldenDir(), 'transformer');
const cases = goldenCases('transformer', /^case_.*\.safetensors$/).map(loadDitCase);

// fp32 on the CPU EP against the fp32 reference. The golden README allows ~1e-4; measured worst is 5.7e-7
// (case_C), so 1e-5 keeps a 20× margin for other CPUs' kernel orders while catching real mistakes.
const FP32_TOL = { atol: 1e-5 };
// bf16-rounded weights (8 significant bits, relative error ≤ 2⁻⁹ ≈ 2e-3 per weight) against the fp32
// reference, on outputs of magnitude ≤ 1.4. Measured worst 4.9e-3 (case_B); 2e-2 leaves a 4× margin.
const BF16_TOL = { atol: 2e-2 };

let dit: DitModel;
beforeAll(async () => {
  dit = await DitModel.load(componentDir);
});
afterAll(async () => {
  await dit.release();
});

describe('DiT forward matches the official transformer (golden transformer/case_*)', () => {
  test('the golden folder has transformer cases', () => expect(cases.length).toBeGreaterThan(0));

  test.each(cases)('$name: velocity, element-wise', async (c: DitCase) => {
    const got = await dit.forward(c.inputs);
    expect(got.dims).toEqual(c.output.dims);
    expectClose(got.data, c.output.data, FP32_TOL, c.name);
  });

  test.each(cases)('$name: the joint RoPE table the model feeds equals rope_full', (c: DitCase) => {
    for (const [b, item] of c.items.entries()) {
      const grid = ([, h, w]: readonly number[]) => ({ rows: h! / 2, cols: w! / 2 });
      const { joint } = ditRopeTables(dit.config, item.textLength, item.refShapes.map(grid), grid(item.latentShape));
      expectClose(joint.cos, item.rope.full.cos, { atol: 1e-6 }, `${c.name}[${b}] cos`);
      expectClose(joint.sin, item.rope.full.sin, { atol: 1e-6 }, `${c.name}[${b}] sin`);
    }
  });
});

describe('DitModel runner', () => {
  test('a text context embedded once serves several steps and equals the batched call', async () => {
    const { c, b, item } = pickItem(cases, moreConditioning);
    const [, C, h, w] = c.inputs.latents.dims as number[];
    const [, L, F] = c.inputs.textHiddenStates.dims as number[];
    const n = item.textLength,
      size = C! * h! * w!;
    const text = await dit.embedText(c.inputs.textHiddenStates.data.subarray(b * L! * F!, (b * L! + n) * F!), n);
    const latent = { data: c.inputs.latents.data.subarray(b * size, (b + 1) * size), dims: [C!, h!, w!] };
    const refs = c.inputs.refs?.[b] ?? [];
    const once = await dit.forwardOne({ latent, timestep: c.inputs.timestep[b]!, text, refs });
    expectClose(once, c.output.data.subarray(b * size, (b + 1) * size), FP32_TOL, `${c.name} item ${b} via embedText`);
    const other = await dit.forwardOne({ latent, timestep: 0.25, text, refs });
    expect(closeness(other, once).maxAbs, 'a different t must change the velocity').toBeGreaterThan(1e-3);
  });

  test('inputs the reference cannot take are refused with a reason', async () => {
    const text = await dit.embedText(new Float32Array(2 * dit.config.textFeatDim), 2);
    const latent = (h: number, w: number) => ({ data: new Float32Array(16 * h * w), dims: [16, h, w] });
    await expect(
      dit.forwardOne({
        latent: latent(4, 4),
        timestep: 0.5,
        text,
        refs: Array.from({ length: 6 }, () => latent(2, 2)),
      }),
    ).rejects.toThrow(/at most 5 reference images, got 6/);
    await expect(dit.forwardOne({ latent: latent(4, 5), timestep: 0.5, text })).rejects.toThrow(
      /multiples of 2, got \[16, 4, 5\]/,
    );
    await expect(dit.embedText(new Float32Array(0), 0)).rejects.toThrow(RangeError);
    await expect(
      dit.forward({
        latents: { data: new Float32Array(16 * 16), dims: [1, 16, 4, 4] },
        timestep: [0.5],
        textHiddenStates: { data: new Float32Array(3 * dit.config.textFeatDim), dims: [1, 3, dit.config.textFeatDim] },
        textMask: [0, 1, 1],
      }),
    ).rejects.toThrow(/not right-padded/);
  });
});

/** Copies the tiny checkpoint into a temp model folder, transforming its tensors on the way. */
function writeVariant(dir: string, edit: (name: string, t: TensorToWrite) => TensorToWrite | null): string {
  const src = SafetensorsFile.open(join(componentDir, 'diffusion_pytorch_model.safetensors'));
  const tensors: Record<string, TensorToWrite> = {};
  for (const info of src.tensors.values()) {
    const t = edit(info.name, { dtype: 'F32', shape: info.shape, data: src.readFloat32(info.name) });
    if (t) tensors[info.name] = t;
  }
  const target = join(dir, 'transformer');
  mkdirSync(target, { recursive: true });
  copyFileSync(join(componentDir, 'config.json'), join(target, 'config.json'));
  writeSafetensors(join(target, 'diffusion_pytorch_model.safetensors'), tensors);
  return dir;
}

describe('damaged and converted checkpoints', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'atelier-dit-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('a tensor with the wrong shape is a WeightError naming tensor and file', async () => {
    const root = writeVariant(join(tmp, 'shape'), (name, t) =>
      name === 'layers.1.attn.to_k.weight' ? { ...t, shape: [t.shape[1]!, t.shape[0]!] } : t,
    );
    const err = await DitModel.load(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err).toMatchObject({
      code: 'wrong-shape',
      tensor: 'layers.1.attn.to_k.weight',
      file: join(root, 'transformer', 'diffusion_pytorch_model.safetensors'),
    });
    expect((err as Error).message).toMatch(
      /"layers\.1\.attn\.to_k\.weight" in .*transformer\/diffusion_pytorch_model\.safetensors has shape \[48, 24\]/,
    );
  });

  test('a missing tensor is a WeightError naming tensor and file', async () => {
    const root = writeVariant(join(tmp, 'missing'), (name, t) =>
      name === 'ref_image_refiner.0.ffn_norm2.weight' ? null : t,
    );
    const err = await DitModel.load(root).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'missing-tensor', tensor: 'ref_image_refiner.0.ffn_norm2.weight' });
    expect((err as Error).message).toMatch(
      /"ref_image_refiner\.0\.ffn_norm2\.weight" is missing from .*transformer\/diffusion_pytorch_model\.safetensors/,
    );
  });

  test('a bf16 copy of the weights loads through the converted-weight cache once and reproduces the golden outputs within bf16 tolerance', async () => {
    const root = writeVariant(join(tmp, 'bf16'), (_, t) => ({
      ...t,
      dtype: 'BF16',
      data: float32ToBf16(t.data as Float32Array),
    }));
    const events: WeightCacheProgress[] = [];
    const bf16 = await DitModel.load(root, { onConvertProgress: (p) => events.push(p) });
    const converted = join(root, WEIGHT_CACHE_FOLDER, 'transformer-float32', 'diffusion_pytorch_model.safetensors');
    expect(events.at(-1)).toEqual({
      doneBytes: statSync(converted).size,
      totalBytes: statSync(converted).size,
      tensor: null,
    });
    const written = statSync(converted).mtimeMs;
    const again: WeightCacheProgress[] = [];
    const reloaded = await DitModel.load(root, { onConvertProgress: (p) => again.push(p) });
    expect(again, 'the second load reuses the cache').toEqual([]);
    expect(statSync(converted).mtimeMs).toBe(written);
    // Same bf16-rounded values stored as F32: widening bf16 is exact, so the cached model must equal it.
    const twin = await DitModel.load(
      writeVariant(join(tmp, 'twin'), (_, t) => {
        const rounded = new Float32Array(
          new Uint32Array(float32ToBf16(t.data as Float32Array)).map((b) => b << 16).buffer,
        );
        return { ...t, data: rounded };
      }),
    );
    // The in-graph Cast path (no cache) computes the same values.
    const cast = await DitModel.load(root, { convert: 'cast' });
    try {
      for (const c of cases) {
        const got = await bf16.forward(c.inputs);
        expectClose(got.data, c.output.data, BF16_TOL, `${c.name} bf16`);
        expectClose(got.data, (await twin.forward(c.inputs)).data, { atol: 1e-6 }, `${c.name} bf16 vs fp32 twin`);
        expectClose(
          got.data,
          (await reloaded.forward(c.inputs)).data,
          { atol: 0 },
          `${c.name} reloaded from the cache`,
        );
        expectClose(got.data, (await cast.forward(c.inputs)).data, { atol: 1e-6 }, `${c.name} cache vs in-graph Cast`);
        expect(
          closeness(got.data, c.output.data).maxAbs,
          `${c.name}: bf16 must differ from fp32 at all`,
        ).toBeGreaterThan(0);
      }
    } finally {
      await Promise.all([bf16, reloaded, twin, cast].map((m) => m.release()));
    }
  });

  test('a truncated bf16 checkpoint is a WeightError naming the file, and no cache is written', async () => {
    const root = writeVariant(join(tmp, 'truncated'), (_, t) => ({
      ...t,
      dtype: 'BF16',
      data: float32ToBf16(t.data as Float32Array),
    }));
    const file = join(root, 'transformer', 'diffusion_pytorch_model.safetensors');
    truncateSync(file, statSync(file).size - 100);
    const err = await DitModel.load(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err).toMatchObject({ code: 'truncated', file });
    expect(existsSync(join(root, WEIGHT_CACHE_FOLDER))).toBe(false);
  });
});
