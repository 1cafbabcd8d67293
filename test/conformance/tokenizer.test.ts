import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { generationPrompt, negativeGenerationPrompt } from '../../src-main/engine/text/prompts.ts';
import { loadTokenizer, type Tokenizer } from '../../src-main/engine/text/tokenizer.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';

// Golden e2e: the tokenizer and chat template of the tiny OmniGen2 in the released folder layout, and the ids
// the official pipeline fed its MLLM (README "e2e").
interface E2eRun {
  prompt: string;
  /** null = the pipeline's default negative prompt. */
  negative: string | null;
  templated: { pos: string[]; neg: string[] };
}
const e2e = join(goldenDir(), 'e2e');
const samples = Object.entries(
  JSON.parse(readFileSync(join(e2e, 'tokenizer_samples.json'), 'utf8')) as Record<string, number[]>,
);
const runs = JSON.parse(readFileSync(join(e2e, 'runs.json'), 'utf8')) as Record<string, E2eRun>;
const runFiles = goldenCases('e2e', /\.safetensors$/).map((file) => ({ name: basename(file, '.safetensors'), file }));

let tok: Tokenizer;
beforeAll(async () => {
  tok = await loadTokenizer(join(e2e, 'model/processor'));
});

describe('golden tokenizer samples', () => {
  test('the golden file has samples', () => expect(samples.length).toBeGreaterThan(0));
  test.each(samples)('%j', (text, want) => {
    expect(tok.encode(text)).toEqual(want);
    expect(tok.decode(want)).toBe(text);
  });
});

describe('golden e2e runs: conditioning text and ids (§2.1)', () => {
  test('there are run files, each described in runs.json', () => {
    expect(runFiles.length).toBeGreaterThan(0);
    for (const { name } of runFiles) expect(runs[name], name).toBeDefined();
  });
  test.each(runFiles)('$name', ({ name, file }) => {
    const run = runs[name]!;
    const pos = generationPrompt(tok, run.prompt);
    const neg = run.negative === null ? negativeGenerationPrompt(tok) : negativeGenerationPrompt(tok, run.negative);
    expect([pos]).toEqual(run.templated.pos);
    expect([neg]).toEqual(run.templated.neg);

    const tensors = SafetensorsFile.open(file);
    for (const [text, key] of [
      [pos, 'pos'],
      [neg, 'neg'],
    ] as const) {
      const want = Array.from(tensors.readBigInt64(`${key}_input_ids`), Number);
      expect(tensors.get(`${key}_input_ids`).shape, `${key}_input_ids shape`).toEqual([1, want.length]);
      expect(tok.encode(text), `${key}_input_ids`).toEqual(want);
      // Batch 1, so no padding: the mask is all ones (§2.1 step 5).
      expect(Array.from(tensors.readBigInt64(`${key}_attention_mask`), Number), `${key}_attention_mask`).toEqual(
        want.map(() => 1),
      );
    }
  });
  test('the default negative prompt is an empty instruction in the same template', () => {
    // A run with `negative: null` pins the default directly (the e2e runs above); without one, any run's
    // templated negative with its instruction removed is the default.
    const golden = Object.values(runs).find((r) => r.negative !== null)!.templated.neg[0]!;
    const emptied = golden.replace(/<\|im_start\|>user\n[^]*<\|im_end\|>\n$/, '<|im_start|>user\n<|im_end|>\n');
    expect(emptied).not.toBe(golden);
    expect(negativeGenerationPrompt(tok)).toBe(emptied);
  });
});
