import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseDitConfig } from '../../../../src-main/engine/models/dit/config.ts';
import { parseQwenTextConfig } from '../../../../src-main/engine/models/qwen-text/config.ts';
import { parseQwenVisionConfig } from '../../../../src-main/engine/models/qwen-vision/config.ts';
import { parseVaeConfig } from '../../../../src-main/engine/models/vae/config.ts';
import {
  USABLE_FRACTION,
  adviseFit,
  estimateMemory,
  readModelConfigs,
  weightBytes,
  type EstimateRequest,
  type ModelConfigs,
  type WeightPrecision,
} from '../../../../src-main/engine/pipeline/memory-estimate.ts';
import { MEMORY_MODES } from '../../../../src-main/engine/pipeline/memory-mode.ts';
import {
  ditParams,
  qwenTextParams,
  qwenVisionParams,
  vaeParams,
} from '../../../../src-main/engine/pipeline/parameter-counts.ts';
import { SafetensorsFile, elementCount } from '../../../../src-main/engine/weights/safetensors.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { REAL_DIT_CONFIG, REAL_MLLM_CONFIG, REAL_VAE_CONFIG, writeRealConfigs } from './real-configs.ts';

const real: ModelConfigs = {
  dit: parseDitConfig(REAL_DIT_CONFIG),
  vae: parseVaeConfig(REAL_VAE_CONFIG),
  text: parseQwenTextConfig(REAL_MLLM_CONFIG),
  vision: parseQwenVisionConfig(REAL_MLLM_CONFIG),
};
const job = (o: Partial<EstimateRequest> = {}): EstimateRequest => ({
  width: 1024,
  height: 1024,
  referenceImages: 0,
  precision: 'fp16',
  mode: 'one-at-a-time',
  ...o,
});

/** Σ elements of the tensors whose key passes `keep`, from the safetensors header alone. */
function storedParams(file: string, keep: (key: string) => boolean = () => true): number {
  let n = 0;
  for (const [key, t] of SafetensorsFile.open(file).tensors) if (keep(key)) n += elementCount(t.shape);
  return n;
}

describe('parameter counts from config.json alone', () => {
  const model = join(goldenDir(), 'e2e', 'model');
  const golden = readModelConfigs(model);

  test('equal the tensors stored in the golden tiny checkpoints, component by component', () => {
    expect(ditParams(golden.dit).total).toBe(
      storedParams(join(model, 'transformer/diffusion_pytorch_model.safetensors')),
    );
    const vae = vaeParams(golden.vae);
    const vaeFile = join(model, 'vae/diffusion_pytorch_model.safetensors');
    expect(vae.encoder.total).toBe(storedParams(vaeFile, (k) => k.startsWith('encoder.')));
    expect(vae.decoder.total).toBe(storedParams(vaeFile, (k) => k.startsWith('decoder.')));
    const mllm = join(model, 'mllm/model.safetensors');
    expect(qwenTextParams(golden.text!).total).toBe(storedParams(mllm, (k) => !k.startsWith('visual.')));
    expect(qwenVisionParams(golden.vision!).total).toBe(storedParams(mllm, (k) => k.startsWith('visual.')));
  });

  test('and the stand-alone golden DiT (one refiner layer per stage)', () => {
    const dir = join(goldenDir(), 'transformer');
    const cfg = parseDitConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    expect(ditParams(cfg).total).toBe(storedParams(join(dir, 'diffusion_pytorch_model.safetensors')));
  });

  test('give the real model its published sizes (model-notes.md §1.3–1.5)', () => {
    expect(ditParams(real.dit)).toMatchObject({ total: 3_967_161_400, largestBlock: 104_691_120 });
    expect(qwenTextParams(real.text!).total).toBe(3_085_938_688);
    expect(qwenVisionParams(real.vision!).total).toBe(668_684_288);
    const vae = vaeParams(real.vae);
    expect([vae.encoder.total, vae.decoder.total]).toEqual([34_274_208, 49_545_475]);
  });

  test('an untied LM head adds vocab × hidden', () => {
    const untied = parseQwenTextConfig({ ...REAL_MLLM_CONFIG, tie_word_embeddings: false });
    expect(qwenTextParams(untied).total - qwenTextParams(real.text!).total).toBe(311_164_928);
  });

  test('the weights at each precision: 16-bit DiT 7.93 GB (§1.3), quantised smaller, the VAE never quantised', () => {
    const dit = ditParams(real.dit);
    expect(weightBytes(dit, 'fp16')).toBe(2 * 3_967_161_400);
    expect(weightBytes(dit, 'fp32')).toBe(4 * 3_967_161_400);
    const sizes = (['fp32', 'fp16', 'int8', 'int4'] as WeightPrecision[]).map((p) => weightBytes(dit, p));
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(weightBytes(dit, 'int4') / 1e9).toBeCloseTo(2.3, 1); // 0.58 bytes per linear weight, the rest fp16
    const vae = vaeParams(real.vae).decoder;
    expect(weightBytes(vae, 'int4', false)).toBe(weightBytes(vae, 'fp16'));
  });
});

describe('the estimate of a job', () => {
  test('DiT sequence and attention scores match §9.3.7 for three 1024² references', () => {
    const e = estimateMemory(real, job({ referenceImages: 3, mode: 'all-resident' }));
    expect(e.sequence).toBe(120 + 4 * 4096);
    const dit = e.components.find((c) => c.component === 'dit')!;
    expect(dit.activationsBytes / 1e9).toBeGreaterThan((21 * 16504 ** 2 * 4) / 1e9); // the 21·S·S fp32 scores, ~23 GB
    const fused = estimateMemory(real, job({ referenceImages: 3, attentionKernel: 'fused' })).components.find(
      (c) => c.component === 'dit',
    )!;
    expect(fused.activationsBytes).toBeLessThan(2e9);
  });

  test('all-resident text-to-image at 1024² is near the official 17.15 GB in bf16 (§8)', () => {
    const e = estimateMemory(real, job({ mode: 'all-resident', attentionKernel: 'fused' }));
    expect(e.peakBytes / 1e9).toBeGreaterThan(15.6); // the weights alone, §8
    expect(e.peakBytes / 1e9).toBeLessThan(17.15 * 1.1);
  });

  test('one reference image sets the generation size; the vision tower counts only in chat', () => {
    const one = estimateMemory(real, job({ width: 2048, height: 512, referenceImages: 1 }));
    expect(one.generation).toEqual({ width: 1024, height: 256 });
    expect(one.components.map((c) => c.component)).toEqual(['mllm-text', 'dit', 'vae-encoder', 'vae-decoder']);
    const chat = estimateMemory(real, job({ referenceImages: 2, chat: true }));
    expect(chat.components.map((c) => c.component)).toContain('mllm-vision');
  });

  test('grows with the output size, the number of references and the precision', () => {
    for (const mode of MEMORY_MODES) {
      const peaks = [256, 512, 768, 1024].map(
        (s) => estimateMemory(real, job({ width: s, height: s, mode })).peakBytes,
      );
      expect(peaks, mode).toEqual([...peaks].sort((a, b) => a - b));
      expect(new Set(peaks).size, mode).toBeGreaterThan(1);
      const refs = [0, 1, 2, 3, 4, 5].map((n) => estimateMemory(real, job({ referenceImages: n, mode })).peakBytes);
      expect(refs, mode).toEqual([...refs].sort((a, b) => a - b));
      const precisions = (['int4', 'int8', 'fp16', 'fp32'] as const).map(
        (precision) => estimateMemory(real, job({ precision, mode })).peakBytes,
      );
      expect(precisions, mode).toEqual([...precisions].sort((a, b) => a - b));
    }
  });

  test.each([
    ['1024², text only', job()],
    ['1024², 3 references', job({ referenceImages: 3 })],
    ['512² fp32', job({ width: 512, height: 512, precision: 'fp32' })],
    [
      '768×1344 int4 chat, 2 references',
      job({ width: 768, height: 1344, precision: 'int4', chat: true, referenceImages: 2 }),
    ],
  ])('modes are ordered: all-resident ≥ one-at-a-time ≥ low-memory ≥ layer streaming (%s)', (_name, request) => {
    const [all, one, low] = MEMORY_MODES.map((mode) => estimateMemory(real, { ...request, mode }));
    expect(all!.peakBytes).toBeGreaterThan(one!.peakBytes);
    expect(one!.peakBytes).toBeGreaterThanOrEqual(low!.peakBytes);
    expect(low!.streamingPeakBytes!).toBeLessThan(low!.peakBytes);
    expect(all!.streamingPeakBytes).toBeNull();
  });

  test('each mode keeps the weights it says it keeps', () => {
    const resident = (mode: (typeof MEMORY_MODES)[number]) =>
      Object.fromEntries(
        estimateMemory(real, job({ referenceImages: 1, mode })).stages.map((s) => [s.stage, s.resident]),
      );
    expect(resident('all-resident').denoise).toEqual(['mllm-text', 'dit', 'vae-encoder', 'vae-decoder']);
    expect(resident('one-at-a-time')).toEqual({
      text: ['mllm-text'],
      encode: ['dit', 'vae-encoder'],
      denoise: ['dit'],
      decode: ['dit', 'vae-decoder'],
    });
    expect(resident('low-memory')).toEqual({
      text: ['mllm-text'],
      encode: ['vae-encoder'],
      denoise: ['dit'],
      decode: ['vae-decoder'],
    });
  });

  test('rejects more than five references', () => {
    expect(() => estimateMemory(real, job({ referenceImages: 6 }))).toThrow(RangeError);
  });
});

describe('fitting the available memory', () => {
  const peak = (o: Partial<EstimateRequest>) => estimateMemory(real, job(o)).peakBytes;

  test('says it fits when the peak is within the usable share', () => {
    expect(adviseFit(real, job(), peak({}) / USABLE_FRACTION + 1)).toMatchObject({ fits: true, suggestion: null });
  });

  test('suggests the fastest mode that fits before anything that costs quality', () => {
    const available = peak({ mode: 'one-at-a-time' }) / USABLE_FRACTION + 1;
    const advice = adviseFit(real, job({ mode: 'all-resident' }), available);
    expect(advice).toMatchObject({
      fits: false,
      suggestion: { mode: 'one-at-a-time', precision: 'fp16', width: 1024, height: 1024 },
    });
  });

  test('then a lower precision, then a smaller size', () => {
    const lower = adviseFit(real, job({ precision: 'fp32' }), 14e9);
    expect(lower.suggestion).toMatchObject({ precision: 'fp16', width: 1024 });
    const smaller = adviseFit(real, job({ precision: 'int4', referenceImages: 3 }), 16e9);
    expect(smaller.suggestion!.width).toBeLessThan(1024);
    expect(smaller.suggestion!.peakBytes).toBeLessThanOrEqual(16e9 * USABLE_FRACTION);
  });

  test('gives no suggestion when nothing tried fits', () => {
    expect(adviseFit(real, job(), 1e9)).toMatchObject({ fits: false, suggestion: null });
  });
});

describe('reading a model folder', () => {
  const work = mkdtempSync(join(tmpdir(), 'atelier-estimate-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('needs only the config.json files', () => {
    writeRealConfigs(join(work, 'real'));
    const configs = readModelConfigs(join(work, 'real'));
    expect(ditParams(configs.dit).total).toBe(3_967_161_400);
    expect(existsSync(join(work, 'real', 'transformer', 'diffusion_pytorch_model.safetensors'))).toBe(false);
  });

  test('a folder without mllm/ estimates the rest', () => {
    const dir = join(work, 'no-mllm');
    for (const [sub, cfg] of [
      ['transformer', REAL_DIT_CONFIG],
      ['vae', REAL_VAE_CONFIG],
    ] as const) {
      mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, sub, 'config.json'), JSON.stringify(cfg));
    }
    const configs = readModelConfigs(dir);
    expect(configs.text).toBeNull();
    expect(estimateMemory(configs, job()).components.map((c) => c.component)).toEqual(['dit', 'vae-decoder']);
  });
});
