import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseTemplatedPrompt } from '../../../src-main/engine/pipeline/reflection.ts';
import { buildReport, type EvalRecord } from '../../../scripts/reflection-eval/report.ts';
import {
  EVAL_TAGS,
  criticChecks,
  judgeQuestions,
  loadPrompts,
  readColor,
  readNumber,
} from '../../../scripts/reflection-eval/spec.ts';
import { repoRoot } from '../../helpers/golden.ts';

const prompts = loadPrompts(join(repoRoot, 'scripts/reflection-eval/prompts.jsonl'));

describe('the reflection evaluation prompts (reflection.md §4.8)', () => {
  test('about forty prompts covering every GenEval tag', () => {
    expect(prompts.length).toBeGreaterThanOrEqual(40);
    for (const tag of EVAL_TAGS) expect(prompts.filter((p) => p.tag === tag).length, tag).toBeGreaterThanOrEqual(5);
    expect(new Set(prompts.map((p) => p.prompt)).size).toBe(prompts.length);
  });

  test.each(prompts.map((p) => [p.prompt, p] as const))('fields and prompt text give the same checks: %s', (_, p) => {
    const sorted = (cs: { question: string; tag: string }[]) =>
      cs.map(({ question, tag }) => `${tag}: ${question}`).sort();
    expect(sorted(parseTemplatedPrompt(p.prompt)!)).toEqual(sorted(criticChecks(p)));
  });

  test("judge questions are worded unlike the critic's and ask counts as numbers", () => {
    const counting = prompts.find((p) => p.tag === 'counting')!;
    const judge = judgeQuestions(counting).map((q) => q.question);
    expect(judge).toEqual([
      `Can you see an apple in this image?`,
      'How many apples are in this image? Answer with a number.',
    ]);
    for (const p of prompts) {
      const critic = new Set(criticChecks(p).map((c) => c.question));
      for (const q of judgeQuestions(p)) expect(critic.has(q.question)).toBe(false);
    }
  });

  test('replies are read leniently', () => {
    expect([readNumber('3'), readNumber('Three.'), readNumber('There are 4 apples'), readNumber('a few')]).toEqual([
      3,
      3,
      4,
      null,
    ]);
    expect([readColor('Red.'), readColor('It is dark blue'), readColor('teal')]).toEqual(['red', 'blue', null]);
  });
});

describe('the evaluation report', () => {
  const record = (
    arm: EvalRecord['arm'],
    index: number,
    passes: boolean[],
    over: Partial<EvalRecord> = {},
  ): EvalRecord => ({
    index,
    tag: 'counting',
    prompt: `p${index}`,
    seed: 0,
    arm,
    strict: passes.every(Boolean),
    imagesUsed: arm === 'round0' ? 1 : 4,
    ms: 1000,
    questions: passes.map((passed, i) => ({ question: `q${i}`, passed, reply: null })),
    file: `geneval/${arm}/${index}/samples/0000.png`,
    ...over,
  });

  test('strict accuracy per arm and tag, regressions against round 0, the ship rule and GenEval agreement', () => {
    const records = [
      record('round0', 0, [true, false]),
      record('loop', 0, [true, true], { loop: { stopReason: 'done', modes: ['generate', 'regenerate'] } }),
      record('best-of-n', 0, [true, false]),
      record('round0', 1, [true, true]),
      record('loop', 1, [false, true], { loop: { stopReason: 'no-progress', modes: ['generate', 'edit', 'edit'] } }),
      record('best-of-n', 1, [true, true]),
    ];
    const report = buildReport(
      records,
      new Map([
        ['geneval/loop/0/samples/0000.png', true],
        ['geneval/loop/1/samples/0000.png', true],
      ]),
    );
    expect(report).toContain('| loop | 50.0 % (1/2) | – | – | 50.0 % (1/2) |');
    expect(report).toMatch(/\| loop \| 4\.00 \/ 4 \| 1\.0 s \| 50\.0 % \(1\/2\) \| 50\.0 % \(1\/2\) \|/);
    expect(report).toContain('| loop | done 1, no-progress 1 | generate 2, regenerate 1, edit 2 |');
    expect(report).toContain('- counting: loop 50.0 % vs round 0 50.0 %, best-of-n 50.0 % → fails');
    expect(report).toContain('**Verdict: ship the loop as an opt-in tool.**');
    expect(report).toContain('| counting | 50.0 % (1/2) | 50.0 % (1/2) | 100.0 % (2/2) |');
  });
});
