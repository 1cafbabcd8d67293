import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  VaeConfigError,
  VaeModel,
  buildDecoderGraph,
  defaultVaeAttention,
  buildEncoderGraph,
  parseVaeConfig,
  type VaeAttentionOptions,
  type VaeTensor,
} from '../../../../src-main/engine/models/vae.ts';
import { Checkpoint } from '../../../../src-main/engine/onnx/index.ts';
import { WeightError } from '../../../../src-main/engine/weights/weight-error.ts';
import { expectClose } from '../../../helpers/tensors.ts';
import { FLUX_VAE_CONFIG, uniformStream, vaeConfigJson, writeSparseVae, writeSyntheticVae } from './vae-fixtures.ts';

// Two blocks (downscale 2), 16 channels at the mid block, 4 groups: small enough for unit tests.
const SMALL = vaeConfigJson([8, 16], 4, { layers_per_block: 1 });

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'atelier-vae-unit-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function random(dims: number[], seed: number): VaeTensor {
  const next = uniformStream(seed);
  return { data: Float32Array.from({ length: dims.reduce((p, d) => p * d, 1) }, () => 2 * next() - 1), dims };
}

async function withModel<T>(
  dir: string,
  attention: VaeAttentionOptions,
  use: (vae: VaeModel) => Promise<T>,
): Promise<T> {
  const vae = await VaeModel.load(dir, dir, { attention });
  try {
    return await use(vae);
  } finally {
    await vae.release();
  }
}

describe('mid-block attention variants', () => {
  const reference: VaeAttentionOptions = { kernel: 'explicit', queryChunks: 1 };
  const variants: VaeAttentionOptions[] = [
    { kernel: 'explicit', queryChunks: 5 },
    { kernel: 'fused', queryChunks: 1 },
    { kernel: 'fused', queryChunks: 4 },
  ];

  // 192 latent tokens split 5 ways gives uneven pieces; 2 tokens split 4 ways gives empty ones.
  test.each(variants)(
    '$kernel with $queryChunks pieces equals unchunked explicit attention on random inputs',
    async (attention) => {
      const dir = writeSyntheticVae(join(tmp, `attn-${attention.kernel}-${attention.queryChunks}`), SMALL, { seed: 7 });
      const image = random([1, 3, 32, 24], 11);
      const latents = [random([1, 16, 16, 12], 12), random([1, 16, 1, 2], 13)];
      const run = (vae: VaeModel) =>
        Promise.all([vae.encode(image).then((p) => p.mean), ...latents.map((z) => vae.decode(z))]);
      const want = await withModel(dir, reference, run);
      const got = await withModel(dir, attention, run);
      // Same math, other summation order: measured worst 1.7e-6 (fused vs explicit, outputs up to 3.3); 1e-5 is a 6× margin.
      got.forEach((t, i) => expectClose(t.data, want[i]!.data, { atol: 1e-5 }, `output ${i}`));
    },
  );
});

test('the default attention follows the first execution provider (fused on CPU, explicit on WebGPU)', () => {
  expect(defaultVaeAttention()).toEqual({ kernel: 'fused', queryChunks: 4 });
  expect(defaultVaeAttention([{ name: 'webgpu' }, 'cpu'])).toEqual({ kernel: 'explicit', queryChunks: 4 });
});

describe('checkpoints that do not fit the config', () => {
  test('a tensor with the wrong shape is a WeightError naming tensor and file', async () => {
    const key = 'decoder.up_blocks.1.resnets.0.conv_shortcut.weight';
    const dir = writeSyntheticVae(join(tmp, 'shape'), SMALL, {
      edit: (k, t) => (k === key ? { ...t, shape: [t.shape[1]!, t.shape[0]!, 1, 1] } : t),
    });
    const err = await VaeModel.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err).toMatchObject({
      code: 'wrong-shape',
      tensor: key,
      file: join(dir, 'diffusion_pytorch_model.safetensors'),
    });
    expect((err as Error).message).toMatch(
      /"decoder\.up_blocks\.1\.resnets\.0\.conv_shortcut\.weight" in .*shape\/diffusion_pytorch_model\.safetensors has shape \[16, 8, 1, 1\] but the model config expects \[8, 16, 1, 1\]/,
    );
  });

  test('a missing tensor is a WeightError naming tensor and file', async () => {
    const key = 'encoder.mid_block.attentions.0.to_v.bias';
    const dir = writeSyntheticVae(join(tmp, 'missing'), SMALL, { edit: (k, t) => (k === key ? null : t) });
    const err = await VaeModel.load(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'missing-tensor', tensor: key });
    expect((err as Error).message).toMatch(
      /"encoder\.mid_block\.attentions\.0\.to_v\.bias" is missing from .*missing\/diffusion_pytorch_model\.safetensors/,
    );
  });

  test('a config whose channels do not split into groups is a VaeConfigError naming key and file', async () => {
    const dir = writeSyntheticVae(join(tmp, 'groups'), SMALL);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...SMALL, norm_num_groups: 3 }));
    const err = await VaeModel.load(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaeConfigError);
    expect(err).toMatchObject({ key: 'block_out_channels', source: join(dir, 'config.json') });
    expect((err as Error).message).toMatch(/entry 8 is not divisible by norm_num_groups \(3\)/);
  });

  test('quant conv weights with use_quant_conv false are refused rather than skipped', async () => {
    const dir = writeSyntheticVae(join(tmp, 'quant-mismatch'), { ...SMALL, use_quant_conv: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(SMALL));
    await expect(VaeModel.load(dir)).rejects.toThrow(/"use_quant_conv" is false but .* holds "quant_conv\.weight"/);
  });
});

describe('quant convs are honoured when the config enables them', () => {
  test('quant_conv = post_quant_conv = 2·I doubles the moments and the decoder input', async () => {
    const L = 16;
    const twoI = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 2 : 0));
    const plain = writeSyntheticVae(join(tmp, 'plain'), SMALL, { seed: 3 });
    const quant = writeSyntheticVae(
      join(tmp, 'quant'),
      { ...SMALL, use_quant_conv: true, use_post_quant_conv: true },
      {
        seed: 3,
        edit: (k, t) =>
          k === 'quant_conv.weight'
            ? { ...t, data: twoI(2 * L) }
            : k === 'post_quant_conv.weight'
              ? { ...t, data: twoI(L) }
              : k.endsWith('quant_conv.bias')
                ? { ...t, data: new Float32Array(t.shape[0]!) }
                : t,
      },
    );
    const image = random([1, 3, 8, 8], 21);
    const z = random([1, L, 4, 4], 22);
    const attention: VaeAttentionOptions = { kernel: 'fused', queryChunks: 1 };
    const [meanPlain, decodedPlain] = await withModel(plain, attention, async (v) => [
      (await v.encode(image)).mean,
      await v.decode({ data: z.data.map((x) => 2 * x), dims: z.dims }),
    ]);
    const [meanQuant, decodedQuant] = await withModel(quant, attention, async (v) => [
      (await v.encode(image)).mean,
      await v.decode(z),
    ]);
    expectClose(
      meanQuant!.data,
      meanPlain!.data.map((m) => 2 * m),
      { atol: 1e-5 },
      'mean',
    );
    expectClose(decodedQuant!.data, decodedPlain!.data, { atol: 1e-5 }, 'decoded');
  });
});

describe('the runner', () => {
  let vae: VaeModel;
  beforeAll(async () => {
    vae = await VaeModel.load(writeSyntheticVae(join(tmp, 'runner'), SMALL, { seed: 5 }));
  });
  afterAll(async () => {
    await vae.release();
  });

  test('encode gives [B, L, H/f, W/f] with logvar clamped to [−30, 20]; one session serves several sizes', async () => {
    for (const [H, W] of [
      [8, 6],
      [16, 32],
    ] as const) {
      const { mean, logvar } = await vae.encode(random([1, 3, H, W], H));
      expect(mean.dims).toEqual([1, 16, H / 2, W / 2]);
      expect(logvar.data.every((v) => v >= -30 && v <= 20)).toBe(true);
    }
  });

  test('latentFromMean and decodeScaled use the config factors in inverse directions (§5.2, §5.9)', async () => {
    const mean = random([1, 16, 3, 2], 31);
    const latent = vae.latentFromMean(mean);
    expect(latent.data[0]).toBe(Math.fround(Math.fround(mean.data[0]! - Math.fround(0.1159)) * Math.fround(0.3611)));
    expectClose(
      (await vae.decodeScaled(latent)).data,
      (await vae.decode(mean)).data,
      { atol: 1e-5 },
      'decodeScaled ∘ latentFromMean',
    );
  });

  test('inputs that do not fit are refused with the expected layout', async () => {
    await expect(vae.encode(random([1, 3, 7, 8], 1))).rejects.toThrow(
      /VAE image must be \[B, 3, H, W\] with H, W positive multiples of 2, got \[1, 3, 7, 8\]/,
    );
    await expect(vae.decode(random([1, 4, 2, 2], 1))).rejects.toThrow(/VAE latent must be \[B, 16, H, W\]/);
    await expect(vae.decode({ data: new Float32Array(3), dims: [1, 16, 2, 2] })).rejects.toThrow(
      /3 values do not fill/,
    );
  });
});

describe('the FLUX.1 VAE layout (§1.4)', () => {
  test('both graphs build against a full-size checkpoint, use every tensor, and count 34,274,208 + 49,545,475 parameters', () => {
    const dir = writeSparseVae(join(tmp, 'flux'), FLUX_VAE_CONFIG);
    const ckpt = Checkpoint.open(dir, 'diffusion_pytorch_model');
    const cfg = parseVaeConfig(FLUX_VAE_CONFIG);
    const options = { root: dir, attention: { kernel: 'fused', queryChunks: 4 } as const };
    const count = (names: readonly string[]) =>
      names.reduce((p, n) => p + ckpt.info(n).shape.reduce((a, d) => a * d, 1), 0);
    const encoder = buildEncoderGraph(cfg, ckpt, options).externalInitializers;
    const decoder = buildDecoderGraph(cfg, ckpt, options).externalInitializers;
    expect(count(encoder)).toBe(34_274_208);
    expect(count(decoder)).toBe(49_545_475);
    expect(encoder.length + decoder.length).toBe(ckpt.keys().length);
  });
});
