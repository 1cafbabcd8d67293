import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  GREEDY,
  QwenConfigError,
  parseQwenTextConfig,
  readGenerationDefaults,
} from '../../../../src-main/engine/models/qwen-text.ts';

/** The released mllm/config.json layout (transformers 4.51), 3B sizes (§1.5). */
const legacy = () => ({
  vocab_size: 151936,
  hidden_size: 2048,
  intermediate_size: 11008,
  num_hidden_layers: 36,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  tie_word_embeddings: true,
  rope_scaling: { type: 'mrope', mrope_section: [16, 24, 24] },
  image_token_id: 151655,
  video_token_id: 151656,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  vision_config: { spatial_merge_size: 2 },
});

/** The same model as transformers ≥ 4.52 writes it. */
const native = () => {
  const { image_token_id, vision_config, rope_theta, rope_scaling, ...text } = legacy();
  return {
    image_token_id,
    vision_config,
    tie_word_embeddings: true,
    text_config: { ...text, rope_parameters: { ...rope_scaling, rope_theta } },
  };
};

describe('parseQwenTextConfig', () => {
  test('the 3B config: derived sizes', () => {
    expect(parseQwenTextConfig(legacy())).toMatchObject({
      hiddenSize: 2048,
      numLayers: 36,
      numHeads: 16,
      numKvHeads: 2,
      headDim: 128,
      kvGroups: 8,
      ropeTheta: 1e6,
      mropeSection: [16, 24, 24],
      tieWordEmbeddings: true,
      imageTokenId: 151655,
      spatialMergeSize: 2,
    });
  });

  test('both layouts describe the same model', () => {
    expect(parseQwenTextConfig(native())).toEqual(parseQwenTextConfig(legacy()));
  });

  test('errors name the key, in the layout the file uses', () => {
    const bad = (json: unknown, key: string, message: RegExp) => {
      let error: unknown;
      try {
        parseQwenTextConfig(json, 'cfg.json');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QwenConfigError);
      expect((error as QwenConfigError).key).toBe(key);
      expect((error as Error).message).toMatch(message);
    };
    const { hidden_size: _, ...noHidden } = legacy();
    bad(noHidden, 'hidden_size', /cfg\.json: "hidden_size" is missing/);
    const n = native();
    bad(
      { ...n, text_config: { ...n.text_config, num_key_value_heads: 3 } },
      'text_config.num_key_value_heads',
      /must divide num_attention_heads/,
    );
    bad({ ...legacy(), rope_scaling: { type: 'default' } }, 'rope_scaling.mrope_section', /multimodal RoPE/);
    bad(
      { ...legacy(), rope_scaling: { mrope_section: [16, 24, 16] } },
      'rope_scaling.mrope_section',
      /half the head size 128/,
    );
    bad({ ...legacy(), rms_norm_eps: '1e-6' }, 'rms_norm_eps', /must be a number/);
    bad([], '', /not a JSON object/);
  });
});

describe('readGenerationDefaults', () => {
  const withFile = (json: unknown | null, check: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-gencfg-'));
    try {
      if (json !== null) writeFileSync(join(dir, 'generation_config.json'), JSON.stringify(json));
      check(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('no file: greedy, no extra EOS ids', () =>
    withFile(null, (dir) => expect(readGenerationDefaults(dir)).toEqual({ sampling: GREEDY, eosTokenIds: [] })));

  test('stock Qwen2.5-VL-3B (§1.6): sampled with top-k 1, penalty 1.05, two EOS ids', () =>
    withFile(
      {
        do_sample: true,
        temperature: 0.1,
        top_k: 1,
        top_p: 0.001,
        repetition_penalty: 1.05,
        eos_token_id: [151645, 151643],
      },
      (dir) =>
        expect(readGenerationDefaults(dir)).toEqual({
          sampling: { temperature: 0.1, topK: 1, topP: 0.001, repetitionPenalty: 1.05 },
          eosTokenIds: [151645, 151643],
        }),
    ));

  test('do_sample false is greedy whatever the temperature; a bad value names the file', () => {
    withFile({ do_sample: false, temperature: 0.7, eos_token_id: 7 }, (dir) =>
      expect(readGenerationDefaults(dir)).toEqual({ sampling: GREEDY, eosTokenIds: [7] }),
    );
    withFile({ do_sample: true, top_p: 2 }, (dir) =>
      expect(() => readGenerationDefaults(dir)).toThrow(/generation_config\.json: top-p must be in/),
    );
  });
});
