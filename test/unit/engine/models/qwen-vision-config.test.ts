import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { QwenVisionConfigError, parseQwenVisionConfig } from '../../../../src-main/engine/models/qwen-vision.ts';
import { goldenDir } from '../../../helpers/golden.ts';

/** vision_config of the released Qwen2.5-VL-3B (model-notes.md §1.5). */
const REAL_VISION_CONFIG = {
  depth: 32,
  hidden_act: 'silu',
  hidden_size: 1280,
  intermediate_size: 3420,
  num_heads: 16,
  in_chans: 3,
  out_hidden_size: 2048,
  patch_size: 14,
  spatial_merge_size: 2,
  spatial_patch_size: 14,
  window_size: 112,
  fullatt_block_indexes: [7, 15, 23, 31],
  tokens_per_second: 2,
  temporal_patch_size: 2,
};
const real = (change: Record<string, unknown> = {}) => ({
  model_type: 'qwen2_5_vl',
  vision_config: { ...REAL_VISION_CONFIG, ...change },
});
const golden = (file: string): unknown => JSON.parse(readFileSync(join(goldenDir(), 'mllm', file), 'utf8'));

describe('parseQwenVisionConfig', () => {
  test('the released config gives the sizes of §2.4', () => {
    const cfg = parseQwenVisionConfig(real());
    expect(cfg).toMatchObject({
      headDim: 80,
      rotaryPairs: 40,
      patchDim: 1176,
      mergeUnit: 4,
      mergedDim: 5120,
      windowUnits: 4,
      outHiddenSize: 2048,
      inChannels: 3,
      ropeTheta: 10000,
      normEps: 1e-6,
    });
    expect([...cfg.fullAttentionBlocks]).toEqual([7, 15, 23, 31]);
  });

  test('both golden layouts (transformers 4.51 and the newer rope_parameters/in_channels one) give the same config', () => {
    const old = parseQwenVisionConfig(golden('config.json'));
    expect(parseQwenVisionConfig(golden('config_transformers_native.json'))).toEqual(old);
    expect(old).toMatchObject({ depth: 2, hiddenSize: 32, headDim: 16, outHiddenSize: 64, windowUnits: 4 });
  });

  test('rope_parameters.rope_theta sets the rotary base', () => {
    expect(parseQwenVisionConfig(real({ rope_parameters: { rope_theta: 500, rope_type: 'axial' } })).ropeTheta).toBe(
      500,
    );
  });

  test.each([
    ['vision_config.depth', { depth: undefined }, /"vision_config\.depth" is missing/],
    ['vision_config.hidden_size', { hidden_size: 12.5 }, /must be an integer/],
    ['vision_config.num_heads', { num_heads: 3 }, /\(3\) must divide hidden_size \(1280\)/],
    ['vision_config.num_heads', { num_heads: 128 }, /head size of 10; the 2-D rotary needs a multiple of 4/],
    ['vision_config.fullatt_block_indexes', { fullatt_block_indexes: [7, 32] }, /block indexes in \[0, 32\)/],
    ['vision_config.hidden_act', { hidden_act: 'gelu' }, /must be "silu"/],
    ['vision_config.in_channels', { in_channels: 4 }, /disagrees with "in_chans" \(3\)/],
    ['vision_config.window_size', { window_size: 20 }, /at least one 2×2 merge unit/],
    ['vision_config.rope_parameters.rope_theta', { rope_parameters: { rope_theta: 0 } }, /positive number/],
  ])('a wrong %s is refused, naming the key', (key, change, message) => {
    const err = (() => {
      try {
        parseQwenVisionConfig(real(change), 'x/config.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(QwenVisionConfigError);
    expect(err).toMatchObject({ key, source: 'x/config.json' });
    expect((err as Error).message).toMatch(message);
  });

  test('a config without vision_config is refused', () => {
    expect(() => parseQwenVisionConfig({ model_type: 'qwen2' })).toThrow(/"vision_config" is missing/);
    expect(() => parseQwenVisionConfig([])).toThrow(QwenVisionConfigError);
  });
});
