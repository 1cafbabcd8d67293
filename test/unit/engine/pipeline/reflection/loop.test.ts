import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { CancelledError } from '../../../../../src-main/engine/cancellation.ts';
import {
  runReflection,
  type ContinueFrom,
  type ReflectionEvent,
  type ReflectionParams,
  type RoundRecord,
} from '../../../../../src-main/engine/pipeline/reflection.ts';
import { PARAMS, ScriptedCritic, ScriptedGenerator } from './scripted.ts';

const CUP = 'Is there a cup in the picture?';
const RED = 'Is the cup red?';
const THREE = 'Are there exactly three cups in the picture?';

function params(prompt: string, over: Partial<ReflectionParams> = {}): ReflectionParams {
  return {
    prompt,
    negative: '',
    sources: [],
    generation: PARAMS,
    maxRevisions: 3,
    threshold: 0.5,
    force: [],
    checklist: null,
    ...over,
  };
}

async function reflect(
  p: ReflectionParams,
  critic: ScriptedCritic,
  from: ContinueFrom | null = null,
  generator = new ScriptedGenerator(),
) {
  const events: ReflectionEvent[] = [];
  let id = 0;
  const outcome = await runReflection(
    p,
    { critic, generator, newId: () => `r${id++}` },
    { onEvent: (e) => events.push(e) },
    from,
  );
  return { outcome, events, generator };
}

const hash = (bytes: number[]) => createHash('sha256').update(Uint8Array.from(bytes)).digest('hex');
const modes = (rounds: readonly RoundRecord[]) => rounds.map((r) => r.mode);

describe('the reflection loop with a scripted critic (reflection.md §4.5–4.6)', () => {
  test('all checks pass: done at round 0, one image, no fix asked', async () => {
    const critic = new ScriptedCritic(() => ({}));
    const { outcome, generator } = await reflect(params('a photo of a red cup'), critic);
    expect(outcome).toMatchObject({ stopReason: 'done', bestRoundId: 'r0', checklistSource: 'template' });
    expect(outcome.rounds).toHaveLength(1);
    expect(outcome.rounds[0]).toMatchObject({
      mode: 'generate',
      text: 'a photo of a red cup',
      seed: 100,
      parentId: null,
      score: { passed: 2, total: 2 },
    });
    expect(generator.requests).toHaveLength(1);
    expect(critic.fixRequests).toEqual([]);
    expect(critic.checklistRequests).toEqual([]); // templated: no MLLM call
  });

  test("a failing colour is edited with the critic's EDIT line, on the previous image, new seed, image guidance 1.5", async () => {
    const critic = new ScriptedCritic(
      (n) => (n === 0 ? { [RED]: 0.2 } : {}),
      () => 'Sure.\nEDIT: Make the cup bright red.\nEDIT: Remove the cup.',
    );
    const { outcome, generator } = await reflect(params('a photo of a red cup'), critic);
    expect(modes(outcome.rounds)).toEqual(['generate', 'edit']);
    const [r0, r1] = outcome.rounds;
    expect(r0!.fix).toEqual({
      raw: 'Sure.\nEDIT: Make the cup bright red.\nEDIT: Remove the cup.',
      parsed: 'Make the cup bright red.',
      instruction: 'Make the cup bright red.',
    });
    expect(r1).toMatchObject({
      parentId: 'r0',
      index: 1,
      text: 'Make the cup bright red.',
      seed: 101,
      inputImages: [hash([0x89, 0])],
      params: { imageGuidance: 1.5, seed: 101 },
    });
    expect(generator.requests[1]!.images[0]!.data[0]).toBe(0); // edits the round-0 image
    expect(critic.fixRequests).toEqual([{ image: 0, failed: [RED] }]);
    expect(outcome).toMatchObject({ stopReason: 'done', bestRoundId: 'r1' });
  });

  test('an unparsable fix falls back to the template from the failed check', async () => {
    const critic = new ScriptedCritic(
      (n) => (n === 0 ? { [RED]: 0.1 } : {}),
      () => 'The cup should be red.',
    );
    const { outcome } = await reflect(params('a photo of a red cup'), critic);
    expect(outcome.rounds[0]!.fix).toMatchObject({ parsed: null, instruction: 'Make the cup red.' });
    expect(outcome.rounds[1]!.text).toBe('Make the cup red.');
  });

  test('a failing count regenerates from the original prompt plus the corrective clause, with a new seed and no fix call', async () => {
    const critic = new ScriptedCritic((n) => (n < 2 ? { [THREE]: 0.1 + 0.2 * n } : {}));
    const { outcome, generator } = await reflect(params('a photo of three cups'), critic);
    expect(modes(outcome.rounds)).toEqual(['generate', 'regenerate', 'regenerate']);
    // Recomputed from the original each round, never appended to the last revised prompt (§4.5).
    expect(outcome.rounds[1]!.text).toBe('a photo of three cups. Exactly three cups.');
    expect(outcome.rounds[2]!.text).toBe('a photo of three cups. Exactly three cups.');
    expect(generator.requests.map((r) => r.params.seed)).toEqual([100, 101, 102]);
    expect(generator.requests[1]!.params.imageGuidance).toBe(2);
    expect(critic.fixRequests).toEqual([]);
    expect(outcome).toMatchObject({ stopReason: 'done', bestRoundId: 'r2' });
  });

  test('no progress in two consecutive rounds stops the loop before the revision limit', async () => {
    const critic = new ScriptedCritic(
      () => ({ [RED]: 0.3 }),
      () => 'EDIT: Make the cup red.',
    );
    const { outcome } = await reflect(params('a photo of a red cup', { maxRevisions: 5 }), critic);
    expect(outcome.stopReason).toBe('no-progress');
    expect(outcome.rounds).toHaveLength(3);
    expect(outcome.bestRoundId).toBe('r0'); // all tie: the earliest
  });

  test('the best round is delivered, not the last', async () => {
    const answers: Record<number, Partial<Record<string, number>>> = {
      0: { [RED]: 0.3 },
      1: { [RED]: 0.45 },
      2: { [CUP]: 0.2 },
    };
    const critic = new ScriptedCritic(
      (n) => answers[n] ?? {},
      () => 'EDIT: Make the cup red.',
    );
    const { outcome } = await reflect(params('a photo of a red cup', { maxRevisions: 2 }), critic);
    expect(outcome.stopReason).toBe('max-rounds');
    expect(outcome.rounds.map((r) => r.score?.passed)).toEqual([1, 1, 0]);
    expect(outcome.bestRoundId).toBe('r1');
    // DSG: with the cup missing, its colour was not asked and counts as failed.
    expect(outcome.rounds[2]!.results.find((r) => r.check.question === RED)).toMatchObject({
      pYes: null,
      passed: false,
    });
  });

  test('max revisions 0 makes one image; the limit is a stop reason', async () => {
    const critic = new ScriptedCritic(() => ({ [RED]: 0.1 }));
    const { outcome } = await reflect(params('a photo of a red cup', { maxRevisions: 0 }), critic);
    expect(outcome).toMatchObject({ stopReason: 'max-rounds', bestRoundId: 'r0' });
    expect(outcome.rounds).toHaveLength(1);
  });

  test('two edits in a row escalate to Regenerate; the same failures after it stop the loop', async () => {
    const critic = new ScriptedCritic(
      (n) => ({ [RED]: 0.05 + 0.11 * n }),
      (n) => `EDIT: Make the cup red, try ${n}.`,
    );
    const { outcome } = await reflect(params('a photo of a red cup', { maxRevisions: 5 }), critic);
    expect(modes(outcome.rounds)).toEqual(['generate', 'edit', 'edit', 'regenerate']);
    expect(outcome.rounds[3]).toMatchObject({ escalated: true, text: 'a photo of a red cup. The cup is red.' });
    expect(outcome.stopReason).toBe('repeated-failures');
  });

  test('the same edit failing twice escalates even when not consecutive; forced modes are obeyed', async () => {
    const critic = new ScriptedCritic(
      (n) => ({ [RED]: 0.01 + 0.11 * n }),
      () => 'EDIT: Make the cup red.',
    );
    const { outcome } = await reflect(
      params('a photo of a red cup', { maxRevisions: 5, force: ['edit', 'regenerate', 'edit'] }),
      critic,
    );
    expect(modes(outcome.rounds)).toEqual(['generate', 'edit', 'regenerate', 'edit', 'regenerate']);
    expect(outcome.rounds.map((r) => r.escalated)).toEqual([false, false, false, false, true]);
    expect(outcome.stopReason).toBe('repeated-failures');
  });

  test('a fix that removes something the prompt asks for is rejected', async () => {
    const DOG = 'Is there a dog in the picture?';
    const critic = new ScriptedCritic(
      (n) => (n === 0 ? { [DOG]: 0.1 } : {}),
      () => 'EDIT: Remove the cat and add a dog.',
    );
    const { outcome } = await reflect(params('a photo of a cat and a dog'), critic);
    expect(outcome.rounds[0]!.fix).toMatchObject({ parsed: null, instruction: 'Add a dog.' });
  });

  test('free-form prompts ask the MLLM for checks; an unusable reply falls back to one whole-picture check', async () => {
    const listed = new ScriptedCritic(
      () => ({}),
      undefined,
      'object | Is there a lighthouse?\ncolor | Is the lighthouse striped red?\nnonsense\n',
    );
    const a = await reflect(params('a lighthouse at dusk, striped red and white'), listed);
    expect(a.outcome.checklistSource).toBe('model');
    expect(a.outcome.checks).toEqual([
      { tag: 'object', question: 'Is there a lighthouse?', dependsOn: [] },
      { tag: 'color', question: 'Is the lighthouse striped red?', dependsOn: [0] },
    ]);
    const junk = await reflect(
      params('a lighthouse at dusk'),
      new ScriptedCritic(() => ({}), undefined, 'I cannot do that.'),
    );
    expect(junk.outcome).toMatchObject({
      checklistSource: 'fallback',
      checks: [{ tag: 'style', question: 'Does the picture show a lighthouse at dusk?' }],
    });
  });

  test('events: checklist first, then per round generating → checking (→ writing-fix), and a round record at each change', async () => {
    const critic = new ScriptedCritic(
      (n) => (n === 0 ? { [RED]: 0.2 } : {}),
      () => 'EDIT: Make the cup red.',
    );
    const { events } = await reflect(params('a photo of a red cup'), critic);
    const stages = events.flatMap((e) =>
      e.type === 'stage' ? [`${e.roundId}:${e.stage}`] : e.type === 'checklist' ? ['checklist'] : [],
    );
    expect(stages).toEqual([
      'null:listing-checks',
      'checklist',
      'r0:generating',
      'r0:checking',
      'r0:writing-fix',
      'r1:generating',
      'r1:checking',
    ]);
    const images = events.filter((e) => e.type === 'round' && e.image).map((e) => e.type === 'round' && e.round.id);
    expect(images).toEqual(['r0', 'r1']); // each image travels once
    const last = events.filter((e) => e.type === 'round' && e.round.id === 'r0').at(-1);
    expect(last).toMatchObject({
      round: {
        fix: { instruction: 'Make the cup red.' },
        timings: { generateMs: expect.any(Number), critiqueMs: expect.any(Number), fixMs: expect.any(Number) },
      },
    });
  });

  test('accepting mid-generation stops and delivers the best finished round; cancelling throws', async () => {
    const accept = new AbortController();
    const generator = new ScriptedGenerator();
    generator.onGenerate = (n) => {
      if (n === 1) accept.abort();
    };
    const critic = new ScriptedCritic(
      () => ({ [RED]: 0.2 }),
      () => 'EDIT: Make the cup red.',
    );
    const outcome = await runReflection(
      params('a photo of a red cup'),
      { critic, generator },
      { accept: accept.signal },
    );
    expect(outcome.stopReason).toBe('user');
    expect(outcome.rounds).toHaveLength(2);
    expect(outcome.rounds[1]!.outputImage).toBeNull();
    expect(outcome.bestRoundId).toBe(outcome.rounds[0]!.id);

    const cancel = new AbortController();
    const g2 = new ScriptedGenerator();
    g2.onGenerate = (n) => {
      if (n === 1) cancel.abort();
    };
    await expect(
      runReflection(params('a photo of a red cup'), { critic, generator: g2 }, { signal: cancel.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
  });

  test('rejects out-of-range parameters', async () => {
    const critic = new ScriptedCritic(() => ({}));
    await expect(reflect(params('a cup', { maxRevisions: 6 }), critic)).rejects.toThrow(/0 to 5/);
    await expect(reflect(params('a cup', { threshold: 1.5 }), critic)).rejects.toThrow(/threshold/);
    await expect(reflect(params('  '), critic)).rejects.toThrow(/prompt/);
  });
});

describe('continue from a stored round (§4.7)', () => {
  const stored = (over: Partial<ContinueFrom> = {}): ContinueFrom => {
    const check = (question: string, tag: 'object' | 'color', dependsOn: number[]) => ({ question, tag, dependsOn });
    const results = [
      { check: check(CUP, 'object', []), pYes: 0.9, passed: true },
      { check: check(RED, 'color', [0]), pYes: 0.2, passed: false },
    ];
    return {
      path: [
        {
          id: 'old0',
          index: 0,
          mode: 'generate',
          text: 'a photo of a red cup',
          results,
          score: { passed: 1, total: 2, meanPYes: 0.55 },
          escalated: false,
        },
      ],
      image: { rgb: { width: 2, height: 1, data: Uint8Array.of(7, 0, 0, 0, 0, 0) }, hash: 'a'.repeat(64) },
      fix: null,
      ...over,
    };
  };

  test("the user's edited fix drives the next edit of the stored image", async () => {
    const critic = new ScriptedCritic(() => ({}));
    const { outcome, generator } = await reflect(
      params('a photo of a red cup'),
      critic,
      stored({ fix: 'Make the mug crimson.' }),
    );
    expect(outcome.rounds[0]).toMatchObject({
      parentId: 'old0',
      index: 1,
      mode: 'edit',
      text: 'Make the mug crimson.',
      seed: 101,
      inputImages: ['a'.repeat(64)],
    });
    expect(generator.requests[0]!.images[0]!.data[0]).toBe(7);
    expect(critic.fixRequests).toEqual([]);
    expect(outcome).toMatchObject({ stopReason: 'done', bestRoundId: 'r0' });
  });

  test('without a fix the stored scores decide; the stored round competes for best', async () => {
    const critic = new ScriptedCritic(
      () => ({ [RED]: 0.1, [CUP]: 0.2 }),
      () => 'EDIT: Make the cup red.',
    );
    const { outcome } = await reflect(params('a photo of a red cup', { maxRevisions: 1 }), critic, stored());
    expect(outcome.rounds.map((r) => r.mode)).toEqual(['edit']);
    expect(critic.fixRequests).toEqual([{ image: 7, failed: [RED] }]);
    expect(outcome).toMatchObject({ stopReason: 'max-rounds', bestRoundId: 'old0' });
  });

  test('an edited checklist rescores the stored image first', async () => {
    const BLUE = 'Is the cup blue?';
    const critic = new ScriptedCritic((n) => (n === 7 ? { [BLUE]: 0.1 } : {}));
    const { outcome } = await reflect(
      params('a photo of a red cup', {
        checklist: [
          { question: CUP, tag: 'object' },
          { question: BLUE, tag: 'color' },
        ],
      }),
      critic,
      stored(),
    );
    expect(critic.asked.filter((a) => a.image === 7).map((a) => a.question)).toEqual([CUP, BLUE]);
    expect(outcome.rounds[0]).toMatchObject({ mode: 'edit', text: 'Make the cup blue.' });
    expect(outcome.checklistSource).toBe('user');
  });
});
