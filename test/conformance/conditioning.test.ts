import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { TextConditioner } from '../../src-main/engine/pipeline/conditioning.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';

interface RunSpec {
  prompt: string;
  /** null = the pipeline's default negative prompt, "". */
  negative: string | null;
  templated: { pos: string[]; neg: string[] };
}

const runs = JSON.parse(readFileSync(join(goldenDir(), 'e2e', 'runs.json'), 'utf8')) as Record<string, RunSpec>;
const cases = goldenCases('e2e', /^e2e_.*\.safetensors$/).map((file) => {
  const name = basename(file, '.safetensors');
  const spec = runs[name];
  if (!spec) throw new Error(`runs.json has no entry for ${name}`);
  return { name, file, spec };
});

// fp32 against the fp32 reference (golden README: ~1e-4). Measured worst 1.8e-6 on states up to ~4; 2e-5 is a 10× margin.
const FP32_TOL = { atol: 2e-5 };

let conditioner: TextConditioner;
beforeAll(async () => {
  conditioner = await TextConditioner.load(join(goldenDir(), 'e2e', 'model'), { cacheSize: 2 });
});
afterAll(async () => {
  await conditioner.release();
});

describe('prompt → MLLM hidden states, as the official pipeline hands them to the DiT (golden e2e/*)', () => {
  test('the golden folder has e2e runs', () => expect(cases.length).toBeGreaterThan(0));

  test.each(cases)('$name: positive prompt', async ({ file, spec }) => {
    const golden = SafetensorsFile.open(file);
    const got = await conditioner.encodePrompt(spec.prompt);
    expect(got.text).toBe(spec.templated.pos[0]);
    expect(got.inputIds).toEqual(Array.from(golden.readBigInt64('pos_input_ids'), Number));
    expect(Array.from(got.mask)).toEqual(Array.from(golden.readBigInt64('pos_attention_mask'), Number));
    expect([got.length, got.hiddenSize]).toEqual(golden.get('pos_hidden').shape.slice(1));
    expectClose(got.hiddenStates, golden.readFloat32('pos_hidden'), FP32_TOL, 'pos_hidden');
  });

  test.each(cases)('$name: negative prompt', async ({ file, spec }) => {
    const golden = SafetensorsFile.open(file);
    const got =
      spec.negative === null ? await conditioner.encodeNegative() : await conditioner.encodeNegative(spec.negative);
    expect(got.text).toBe(spec.templated.neg[0]);
    expect(got.inputIds).toEqual(Array.from(golden.readBigInt64('neg_input_ids'), Number));
    expect(Array.from(got.mask)).toEqual(Array.from(golden.readBigInt64('neg_attention_mask'), Number));
    expectClose(got.hiddenStates, golden.readFloat32('neg_hidden'), FP32_TOL, 'neg_hidden');
  });
});

describe('the per-prompt cache', () => {
  test('a repeated prompt is served from the cache without running the MLLM', async () => {
    const forward = vi.spyOn(conditioner.model, 'forward');
    try {
      const first = await conditioner.encodePrompt('a cached prompt');
      const again = await conditioner.encodePrompt('a cached prompt');
      expect(again).toBe(first);
      expect(forward).toHaveBeenCalledTimes(1);
    } finally {
      forward.mockRestore();
    }
  });

  test('it is bounded: the least recently used prompt is evicted first', async () => {
    const forward = vi.spyOn(conditioner.model, 'forward');
    try {
      await conditioner.encodePrompt('one');
      await conditioner.encodePrompt('two');
      await conditioner.encodePrompt('one'); // hit: "two" is now the oldest
      await conditioner.encodePrompt('three'); // evicts "two" (cacheSize 2)
      await conditioner.encodePrompt('one'); // still cached
      await conditioner.encodePrompt('two'); // recomputed
      expect(forward).toHaveBeenCalledTimes(4);
    } finally {
      forward.mockRestore();
    }
  });

  test('a failed encoding is not cached', async () => {
    const forward = vi.spyOn(conditioner.model, 'forward').mockRejectedValueOnce(new Error('boom'));
    try {
      await expect(conditioner.encodePrompt('flaky')).rejects.toThrow('boom');
      await expect(conditioner.encodePrompt('flaky')).resolves.toMatchObject({ length: expect.any(Number) });
    } finally {
      forward.mockRestore();
    }
  });

  test('a cancelled request runs nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(conditioner.encodePrompt('never encoded', controller.signal)).rejects.toMatchObject({
      code: 'cancelled',
    });
  });
});
