import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeEach, describe, expect, onTestFinished, test, vi } from 'vitest';
import { encodePng } from '../../src-main/engine/image/encode-png.ts';
import { rgbImage } from '../../src-main/engine/image/rgb-image.ts';
import { ProviderCache } from '../../src-main/engine/onnx/provider-cache.ts';
import { ProviderSelector } from '../../src-main/engine/onnx/provider-selector.ts';
import { OnnxSession, type SessionOptions } from '../../src-main/engine/onnx/session.ts';
import { runGenerateJob, type GenerateJob, type GeneratedPng } from '../../src-main/engine/pipeline/generate-job.ts';
import { MEMORY_MODES, type MemoryMode } from '../../src-main/engine/pipeline/memory-mode.ts';
import { ModelSet } from '../../src-main/engine/pipeline/model-set.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenDir } from '../helpers/golden.ts';

// The golden e2e edit run (prompt through the MLLM, one input image through the VAE encoder, previews fitted on the
// decoder) in each memory mode, watching which onnxruntime sessions are alive at every creation.
const modelDir = join(goldenDir(), 'e2e', 'model');
// Any e2e run with an input image will do; its prompts are used as given.
const runs = JSON.parse(readFileSync(join(goldenDir(), 'e2e', 'runs.json'), 'utf8')) as Record<
  string,
  { prompt: string; negative: string | null; images: unknown[] }
>;
const editRun = Object.entries(runs).find(
  ([name, r]) => r.images.length > 0 && existsSync(join(goldenDir(), 'e2e', `${name}.safetensors`)),
);
if (!editRun) throw new Error('the golden e2e/ has no run with an input image');
const file = SafetensorsFile.open(join(goldenDir(), 'e2e', `${editRun[0]}.safetensors`));
const [H, W] = file.get('input_image_0').shape as [number, number, number];
const input = await encodePng(rgbImage(W, H, new Uint8Array(file.readBytes('input_image_0'))));

const job = (memoryMode: MemoryMode, prompt = editRun[1].prompt): GenerateJob => ({
  modelDir,
  prompt,
  negative: editRun[1].negative ?? '',
  images: [input],
  numImages: 1,
  previews: true,
  memoryMode,
  params: {
    steps: 3,
    textGuidance: 5,
    imageGuidance: 2,
    cfgRange: [0, 1],
    scheduler: 'euler',
    width: 1024,
    height: 1024,
    maxPixels: 1024 * 1024,
    maxSideLength: 1024,
    seed: 0,
  },
  initialLatents: file.readFloat32('initial_latents'),
});
const ctx = { signal: new AbortController().signal, progress: () => undefined };

/** Every session created (graph name, options, the graphs alive at that moment) and the ones alive now. */
const live = new Map<OnnxSession, string>();
let created: { name: string; options: SessionOptions; alongside: string[] }[] = [];
const requested: SessionOptions[] = [];
beforeEach(() => {
  const create = OnnxSession.create.bind(OnnxSession);
  const release = OnnxSession.prototype.release;
  vi.spyOn(OnnxSession, 'create').mockImplementation(async (model, options = {}) => {
    requested.push(options);
    const session = await create(model, options);
    created.push({ name: model.name, options, alongside: [...live.values()] });
    live.set(session, model.name);
    return session;
  });
  vi.spyOn(OnnxSession.prototype, 'release').mockImplementation(function (this: OnnxSession) {
    live.delete(this);
    return release.call(this);
  });
});
afterEach(() => vi.restoreAllMocks());

const family = (name: string) =>
  name.startsWith('dit_') ? 'dit' : name.startsWith('vae_') ? 'vae' : name.startsWith('qwen') ? 'mllm' : name;
const families = (names: Iterable<string>) => [...new Set([...names].map(family))].sort();
const results = new Map<MemoryMode, GeneratedPng>();
const sets: ModelSet[] = [];
afterAll(async () => {
  for (const s of sets) await s.release();
});

describe('memory modes on the golden e2e model', () => {
  test.each(MEMORY_MODES)('%s', async (mode) => {
    const models = new ModelSet();
    sets.push(models);
    live.clear();
    created = [];
    const [png] = await runGenerateJob(job(mode), models, ctx);
    results.set(mode, png!);
    const together = created.map((c) => families([c.name, ...c.alongside]));
    expect(families(created.map((c) => c.name))).toEqual(['dit', 'mllm', 'vae']);
    if (mode === 'all-resident') {
      expect(families(live.values())).toEqual(['dit', 'mllm', 'vae']);
    } else {
      // The MLLM never shares memory with the DiT or the VAE, and the VAE is freed after each call.
      expect(together.filter((f) => f.includes('mllm') && f.length > 1)).toEqual([]);
      expect(families(live.values())).toEqual(mode === 'one-at-a-time' ? ['dit'] : []);
    }
    if (mode === 'low-memory') {
      expect(together.filter((f) => f.length > 1)).toEqual([]);
      expect(created.every((c) => c.options.disablePrepacking === true)).toBe(true);
    } else {
      expect(created.some((c) => c.options.disablePrepacking)).toBe(false);
    }
    expect(created.every((c) => JSON.stringify(c.options.executionProviders) === '["cpu"]')).toBe(true);
  });

  test('every mode makes the same image', async () => {
    const pixels = await Promise.all(
      MEMORY_MODES.map(async (m) => new Uint8Array(await sharp(results.get(m)!.png).raw().toBuffer())),
    );
    for (const p of pixels.slice(1)) {
      let worst = 0;
      p.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - pixels[0]![i]!));
      });
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  test('one-at-a-time: a repeated prompt reuses its embedding and the resident DiT; a new one swaps the MLLM in', async () => {
    const models = new ModelSet();
    sets.push(models);
    live.clear();
    await runGenerateJob(job('one-at-a-time'), models, ctx);
    created = [];
    await runGenerateJob(job('one-at-a-time'), models, ctx);
    expect(families(created.map((c) => c.name))).toEqual(['vae']);
    created = [];
    await runGenerateJob(job('one-at-a-time', `${editRun[1].prompt} In green.`), models, ctx);
    expect(created[0]).toMatchObject({ name: 'qwen_text', alongside: [] });
    expect(families(created.map((c) => c.name))).toEqual(['dit', 'mllm', 'vae']);
  });

  test('switching to low-memory reopens the model with its own session options; back to one-at-a-time reopens again', async () => {
    const models = new ModelSet();
    sets.push(models);
    const first = await models.openFor(modelDir, { memoryMode: 'all-resident' });
    expect(await models.openFor(modelDir, { memoryMode: 'one-at-a-time' })).toBe(first);
    const low = await models.openFor(modelDir, { memoryMode: 'low-memory' });
    expect(low).not.toBe(first);
    expect(low.runtime.session.disablePrepacking).toBe(true);
    expect(low.runtime.vaeAttention.queryChunks).toBe(16);
    expect(await models.openFor(modelDir, { memoryMode: 'one-at-a-time' })).not.toBe(low);
  });

  test('the chosen provider and its options reach every session: WebGPU runs where an adapter exists and fails naming WebGPU where none does', async () => {
    const fakeWebGpu = new ProviderSelector(() => ({
      platform: { platform: 'linux', arch: 'x64', backends: ['cpu', 'webgpu'] },
      probe: async () => ({ ok: true, error: null, detail: null, cpuOps: [] }),
      openCache: ProviderCache.open,
      ortVersion: 'test',
      now: () => new Date(),
    }));
    const models = new ModelSet(fakeWebGpu);
    sets.push(models);
    // GPU providers compute in fp16, converted once into a cache inside the model folder: use a private copy.
    const copy = mkdtempSync(join(tmpdir(), 'atelier-webgpu-model-'));
    onTestFinished(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(modelDir, copy, { recursive: true });
    const set = await models.openFor(copy, { provider: { preference: 'auto' } });
    expect(set.runtime).toMatchObject({
      provider: 'webgpu',
      session: { executionProviders: [{ name: 'webgpu', storageBufferCacheMode: 'simple' }] },
      vaeAttention: { kernel: 'explicit' },
    });
    const hasAdapter = await (await set.dit()).embedText(new Float32Array(64), 1).then(
      () => true,
      (e: Error) => {
        expect(e.message).toMatch(/WebGPU/);
        return false;
      },
    );
    expect(requested.at(-1)!.executionProviders).toEqual([
      { name: 'webgpu', storageBufferCacheMode: 'simple', validationMode: 'wgpuOnly' },
    ]);
    if (hasAdapter) expect(live.size).toBeGreaterThan(0); // a machine with a GPU runs it
  });
});
