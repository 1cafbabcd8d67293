import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GREEDY, QwenTextModel, generateTokens, parseQwenTextConfig } from '../../src-main/engine/models/qwen-text.ts';
import { QwenVisionModel } from '../../src-main/engine/models/qwen-vision.ts';
import { spliceImageRows } from '../../src-main/engine/pipeline/chat.ts';
import {
  continuationPositionIds,
  mropePositionIds,
  textPositionIds,
  type MropePositions,
} from '../../src-main/engine/sampling/mrope.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../src-main/engine/weights/safetensors-writer.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';

const mllmDir = join(goldenDir(), 'mllm');
const caseFiles = goldenCases('mllm', /^case_.*\.safetensors$/);

// fp32 CPU against the fp32 reference; the golden README allows ~1e-4. Measured worst: hidden states 2.0e-6
// (mm_last_hidden, values up to 4.1), layer 0 3.4e-7. 2e-5 keeps a 10× margin for other CPUs' kernel orders.
const FP32_TOL = { atol: 2e-5 };
// Logits (|logit| ≤ 2.8 here, thousands of them per token): absolute plus relative, for larger real-model values.
// Measured worst 1.9e-6 (mm_logits).
const LOGITS_TOL = { atol: 2e-5, rtol: 1e-5 };
// Our vision tower instead of the golden embeddings (its own error 1.6e-6) feeding the decoder: measured worst
// 3.3e-6 on hidden states and 3.1e-6 on logits; the same bounds hold with a 6× margin.
const VISION_TOL = FP32_TOL;

let model: QwenTextModel;
beforeAll(async () => {
  model = await QwenTextModel.load(mllmDir, { taps: true, logits: 'all' });
});
afterAll(async () => {
  await model.release();
});

test('the golden directory has MLLM cases', () => expect(caseFiles.length).toBeGreaterThan(0));

describe.each(caseFiles.map((f) => [basename(f), f]))('%s', (_name, file) => {
  const golden = SafetensorsFile.open(file);
  const ids = (key: string) => Array.from(golden.readBigInt64(key), Number);
  const floats = (key: string) => golden.readFloat32(key);
  const textIds = golden.has('text_input_ids') ? ids('text_input_ids') : [];
  const layerKeys = [...golden.tensors.keys()].filter((k) => /^text_hidden_\d+$/.test(k));

  /** The golden multimodal prompt: ids, M-RoPE ids and embeddings with `vision` rows at the image pads. */
  function mmPrompt(vision: Float32Array): { ids: number[]; positions: MropePositions; embeds: Float32Array } {
    const cfg = model.config;
    const mmIds = ids('mm_input_ids');
    const [t, h, w] = ids('mm_image_grid_thw') as [number, number, number];
    const positions = mropePositionIds(mmIds, [{ t, h, w }], {
      imageTokenId: cfg.imageTokenId,
      spatialMergeSize: cfg.spatialMergeSize,
    });
    const embeds = model.embed(mmIds);
    spliceImageRows(embeds, mmIds, cfg.imageTokenId, vision, cfg.hiddenSize);
    return { ids: mmIds, positions, embeds };
  }

  describe.skipIf(!golden.has('text_input_ids'))('Qwen2.5-VL text decoder, text only (text_*)', () => {
    test('the golden file has every layer of the text path', () => {
      expect(layerKeys.length).toBe(model.config.numLayers + 1);
      expect(textIds.length).toBeGreaterThan(1);
    });

    test('embedding output = text_hidden_0 (host-side gather, exact)', () => {
      expect(Array.from(model.embed(textIds))).toEqual(Array.from(floats('text_hidden_0')));
    });

    test('every layer, the final norm and the logits, element-wise', async () => {
      const out = await model.forward({ embeds: model.embed(textIds), positions: textPositionIds(textIds.length) });
      const N = model.config.numLayers;
      // text_hidden_i (0 < i < N) is layer i−1's output; text_hidden_N is after the final norm (transformers' layout).
      for (let i = 1; i < N; i++)
        expectClose(out.layerHidden![i - 1]!, floats(`text_hidden_${i}`), FP32_TOL, `text_hidden_${i}`);
      expectClose(out.lastHidden, floats(`text_hidden_${N}`), FP32_TOL, `text_hidden_${N}`);
      expectClose(out.lastHidden, floats('text_last_hidden'), FP32_TOL, 'text_last_hidden');
      expectClose(out.logits, floats('text_logits'), LOGITS_TOL, 'text_logits');
    });

    test('with two left-padding tokens masked out, the real tokens are unchanged', async () => {
      const n = textIds.length,
        D = model.config.hiddenSize,
        V = model.config.vocabSize;
      const padded = [textIds[3]!, textIds[5]!, ...textIds];
      // transformers' positions for a left-padded row: cumsum(mask) − 1, with the pads at 1.
      const row = [1, 1, ...textIds.map((_, i) => i)];
      const positions: MropePositions = { length: n + 2, ropeDelta: 0, ids: Int32Array.from([...row, ...row, ...row]) };
      const out = await model.forward({
        embeds: model.embed(padded),
        positions,
        attentionMask: [0, 0, ...textIds.map(() => 1)],
      });
      expectClose(out.lastHidden.subarray(2 * D), floats('text_last_hidden'), FP32_TOL, 'padded text_last_hidden');
      expectClose(out.logits.subarray(2 * V), floats('text_logits'), LOGITS_TOL, 'padded text_logits');
    });
  });

  describe.skipIf(!golden.has('mm_input_ids'))('Qwen2.5-VL text decoder with an image (mm_*)', () => {
    test('M-RoPE position ids and rope delta equal mm_position_ids / mm_rope_deltas exactly', () => {
      const { positions } = mmPrompt(floats('mm_vision_embeds'));
      expect(Array.from(positions.ids)).toEqual(ids('mm_position_ids'));
      expect(positions.ropeDelta).toBe(ids('mm_rope_deltas')[0]);
    });

    test('last hidden state and logits with the golden vision embeddings spliced in', async () => {
      const { positions, embeds } = mmPrompt(floats('mm_vision_embeds'));
      const out = await model.forward({ embeds, positions });
      expectClose(out.lastHidden, floats('mm_last_hidden'), FP32_TOL, 'mm_last_hidden');
      expectClose(out.logits, floats('mm_logits'), LOGITS_TOL, 'mm_logits');
    });

    test('the same through our vision tower from mm_pixel_values', async () => {
      const vision = await QwenVisionModel.load(mllmDir);
      try {
        const [t, h, w] = ids('mm_image_grid_thw') as [number, number, number];
        const { positions, embeds } = mmPrompt(await vision.embed(floats('mm_pixel_values'), [[t, h, w]]));
        const out = await model.forward({ embeds, positions });
        expectClose(out.lastHidden, floats('mm_last_hidden'), VISION_TOL, 'mm_last_hidden via vision tower');
        expectClose(out.logits, floats('mm_logits'), LOGITS_TOL, 'mm_logits via vision tower');
      } finally {
        await vision.release();
      }
    });

    test('8 greedy tokens with KV-cache decoding equal mm_greedy_tokens_mrope', async () => {
      const want = ids('mm_greedy_tokens_mrope');
      const tokens: number[] = [];
      for await (const t of generateTokens(model, mmPrompt(floats('mm_vision_embeds')), {
        maxNewTokens: want.length,
        stopTokenIds: [],
        sampling: GREEDY,
      }))
        tokens.push(t);
      expect(tokens).toEqual(want);
    });

    test('decoding one token against the cache equals a prefill over the whole sequence', async () => {
      const prompt = mmPrompt(floats('mm_vision_embeds'));
      const n = prompt.ids.length;
      const D = model.config.hiddenSize,
        V = model.config.vocabSize;
      const full = await model.forward({ embeds: prompt.embeds, positions: prompt.positions });
      const head = (p: MropePositions, count: number): MropePositions => ({
        length: count,
        ropeDelta: p.ropeDelta,
        ids: Int32Array.from({ length: 3 * count }, (_, k) => p.ids[Math.floor(k / count) * p.length + (k % count)]!),
      });
      const prefix = await model.forward({
        embeds: prompt.embeds.subarray(0, (n - 1) * D),
        positions: head(prompt.positions, n - 1),
      });
      // The last prompt token is text, so its position is its index + ropeDelta: what generation uses.
      const step = await model.forward({
        embeds: prompt.embeds.subarray((n - 1) * D),
        positions: continuationPositionIds(n - 1, 1, prompt.positions.ropeDelta),
        cache: prefix.cache,
      });
      expect(step.cache.length).toBe(n);
      expectClose(step.logits, full.logits.subarray((n - 1) * V), LOGITS_TOL, 'decode vs prefill logits');
      expectClose(step.lastHidden, full.lastHidden.subarray((n - 1) * D), FP32_TOL, 'decode vs prefill hidden');
    });
  });

  describe.skipIf(!golden.has('text_logits'))('an untied checkpoint', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'atelier-qwen-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('a stored lm_head.weight is used instead of the tied embeddings', async () => {
      const src = SafetensorsFile.open(join(mllmDir, 'model.safetensors'));
      const tensors: Record<string, TensorToWrite> = {};
      for (const info of src.tensors.values())
        tensors[info.name] = { dtype: 'F32', shape: info.shape, data: src.readFloat32(info.name) };
      const doubled = src.readFloat32('model.embed_tokens.weight').map((v) => 2 * v);
      tensors['lm_head.weight'] = { dtype: 'F32', shape: src.get('model.embed_tokens.weight').shape, data: doubled };
      mkdirSync(join(dir, 'untied'));
      copyFileSync(join(mllmDir, 'config_transformers_native.json'), join(dir, 'untied', 'config.json'));
      writeSafetensors(join(dir, 'untied', 'model.safetensors'), tensors);
      const untied = await QwenTextModel.load(join(dir, 'untied'), { logits: 'all' });
      try {
        const out = await untied.forward({ embeds: untied.embed(textIds), positions: textPositionIds(textIds.length) });
        expectClose(
          out.logits,
          floats('text_logits').map((v) => 2 * v),
          { atol: 2 * LOGITS_TOL.atol, rtol: LOGITS_TOL.rtol },
          'logits with lm_head = 2·embeddings',
        );
      } finally {
        await untied.release();
      }
    });
  });
});

describe('checkpoint variants', () => {
  test('the transformers-native config layout describes the same model', () => {
    const read = (f: string) => parseQwenTextConfig(JSON.parse(readFileSync(join(mllmDir, f), 'utf8')), f);
    expect(read('config_transformers_native.json')).toEqual(read('config.json'));
  });
});
