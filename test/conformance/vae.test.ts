import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VaeModel, type VaeAttentionOptions, type VaeTensor } from '../../src-main/engine/models/vae.ts';
import { float32ToBf16 } from '../../src-main/engine/weights/dtype.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../src-main/engine/weights/safetensors-writer.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { closeness, expectClose } from '../helpers/tensors.ts';

const componentDir = join(goldenDir(), 'vae');

interface VaeCase {
  name: string;
  image: VaeTensor;
  mean: VaeTensor;
  logvar: VaeTensor;
  latentIn: VaeTensor;
  decoded: VaeTensor;
}

function loadCase(path: string): VaeCase {
  const f = SafetensorsFile.open(path);
  const t = (key: string): VaeTensor => ({ data: f.readFloat32(key), dims: f.get(key).shape });
  return {
    name: basename(path, '.safetensors'),
    image: t('image'),
    mean: t('latent_mean'),
    logvar: t('latent_logvar'),
    latentIn: t('latent_in'),
    decoded: t('decoded'),
  };
}

const cases = goldenCases('vae', /^case_.*\.safetensors$/).map(loadCase);

// fp32 CPU against the fp32 reference (golden README: ~1e-4). Measured worst, the same to 3 digits for every
// attention variant: mean 2.3e-6, logvar 2.5e-6, decoded 4.7e-6 (case_roundtrip); 5e-5 keeps a 10× margin.
const FP32_TOL = { atol: 5e-5 };
// bf16-rounded weights (relative error ≤ 2⁻⁹ each, compounded over ~30 convs with GroupNorms between them)
// against the fp32 reference, outputs of magnitude ≤ 2.7. Measured worst: mean 3.1e-2, logvar 3.2e-2,
// decoded 3.3e-2; 0.1 leaves a 3× margin. The fp32-twin check below pins the bf16 path itself (measured: identical).
const BF16_TOL = { atol: 0.1 };

const variants: { label: string; attention: VaeAttentionOptions }[] = [
  { label: 'fused attention, 4 query pieces (default)', attention: { kernel: 'fused', queryChunks: 4 } },
  { label: 'explicit attention, 3 query pieces', attention: { kernel: 'explicit', queryChunks: 3 } },
];

async function expectGolden(vae: VaeModel, c: VaeCase, tol: { atol: number }, label: string): Promise<void> {
  const { mean, logvar } = await vae.encode(c.image);
  expect(mean.dims).toEqual(c.mean.dims);
  expectClose(mean.data, c.mean.data, tol, `${label} latent_mean`);
  expectClose(logvar.data, c.logvar.data, tol, `${label} latent_logvar`);
  const decoded = await vae.decode(c.latentIn);
  expect(decoded.dims).toEqual(c.decoded.dims);
  expectClose(decoded.data, c.decoded.data, tol, `${label} decoded`);
}

describe.each(variants)('AutoencoderKL matches diffusers (golden vae/case_*), $label', ({ attention }) => {
  let vae: VaeModel;
  beforeAll(async () => {
    vae = await VaeModel.load(componentDir, componentDir, { attention });
  });
  afterAll(async () => {
    await vae.release();
  });

  test('the golden folder has vae cases', () => expect(cases.length).toBeGreaterThan(0));

  test.each(cases)('$name: encoder mean/logvar and decoder output, element-wise', async (c) => {
    await expectGolden(vae, c, FP32_TOL, c.name);
  });
});

describe('a bf16 copy of the tiny weights', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'atelier-vae-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** Copies the tiny checkpoint into `<tmp>/<name>/`, transforming every tensor. */
  function writeVariant(name: string, edit: (data: Float32Array) => Pick<TensorToWrite, 'dtype' | 'data'>): string {
    const src = SafetensorsFile.open(join(componentDir, 'diffusion_pytorch_model.safetensors'));
    const tensors: Record<string, TensorToWrite> = {};
    for (const info of src.tensors.values())
      tensors[info.name] = { shape: info.shape, ...edit(src.readFloat32(info.name)) };
    const dir = join(tmp, name);
    mkdirSync(dir);
    copyFileSync(join(componentDir, 'config.json'), join(dir, 'config.json'));
    writeSafetensors(join(dir, 'diffusion_pytorch_model.safetensors'), tensors);
    return dir;
  }

  test('reproduces the golden outputs within bf16 tolerance, and its fp32 twin to float precision', async () => {
    const bf16 = await VaeModel.load(writeVariant('bf16', (data) => ({ dtype: 'BF16', data: float32ToBf16(data) })));
    // The same bf16-rounded values stored as F32: isolates the in-graph Cast from the rounding itself.
    const twin = await VaeModel.load(
      writeVariant('twin', (data) => ({
        dtype: 'F32',
        data: new Float32Array(new Uint32Array(float32ToBf16(data)).map((b) => b << 16).buffer),
      })),
    );
    try {
      for (const c of cases) {
        await expectGolden(bf16, c, BF16_TOL, `${c.name} bf16`);
        const decoded = await bf16.decode(c.latentIn);
        expectClose(decoded.data, (await twin.decode(c.latentIn)).data, { atol: 1e-5 }, `${c.name} bf16 vs fp32 twin`);
        expect(
          closeness(decoded.data, c.decoded.data).maxAbs,
          `${c.name}: bf16 weights must change the output at all`,
        ).toBeGreaterThan(0);
      }
    } finally {
      await bf16.release();
      await twin.release();
    }
  });
});
