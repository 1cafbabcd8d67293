import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, test } from 'vitest';
import type { EngineProgress } from '../../src-main/engine/host/protocol.ts';
import { ModelSet } from '../../src-main/engine/pipeline/model-set.ts';
import {
  ModelCritic,
  compareScores,
  runReflectJob,
  type ReflectJob,
  type ReflectionEvent,
  type RoundRecord,
} from '../../src-main/engine/pipeline/reflection.ts';
import { preprocessForQwen } from '../../src-main/engine/image/qwen-preprocess.ts';
import { rgbImage } from '../../src-main/engine/image/rgb-image.ts';
import type { QwenTextModel, TextForwardInput } from '../../src-main/engine/models/qwen-text.ts';
import { spliceImageRows } from '../../src-main/engine/pipeline/chat.ts';
import { critiqueIntro, questionTurn, yesProbability } from '../../src-main/engine/pipeline/reflection.ts';
import { mropePositionIds } from '../../src-main/engine/sampling/mrope.ts';
import { QWEN_SYSTEM_PROMPT, conversationPrompt, expandImagePads } from '../../src-main/engine/text/prompts.ts';
import { loadTokenizer } from '../../src-main/engine/text/tokenizer.ts';
import { goldenDir } from '../helpers/golden.ts';

// The golden e2e model folder: a complete tiny OmniGen2 with random weights. Its answers are deterministic but
// meaningless, so these tests check the plumbing (reflection.md §4), not the judgement.
const modelDir = join(goldenDir(), 'e2e', 'model');
const models = new ModelSet();
afterAll(() => models.release());

const PARAMS = {
  steps: 2,
  textGuidance: 5,
  imageGuidance: 2,
  cfgRange: [0, 1] as [number, number],
  scheduler: 'euler' as const,
  width: 64,
  height: 64,
  maxPixels: 64 * 64,
  maxSideLength: 64,
  seed: 7,
};

function job(over: Partial<ReflectJob> = {}): ReflectJob {
  return {
    modelDir,
    prompt: 'a photo of a red cup',
    negative: '',
    images: [],
    params: PARAMS,
    maxRevisions: 2,
    threshold: 0.5,
    force: [],
    checklist: null,
    continueFrom: null,
    ...over,
  };
}

async function run(j: ReflectJob) {
  const events: ReflectionEvent[] = [];
  const progress: EngineProgress[] = [];
  const outcome = await runReflectJob(j, models, {
    signal: new AbortController().signal,
    progress: (p) => (p.report?.kind === 'reflect' ? events.push(p.report.event) : progress.push(p)),
  });
  return { outcome, events, progress };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The plumbing every run must satisfy, whatever the random model answers. */
function expectCoherent(
  outcome: Awaited<ReturnType<typeof run>>['outcome'],
  events: ReflectionEvent[],
  o: { maxRevisions: number; threshold: number },
) {
  const { maxRevisions, threshold } = o;
  const { rounds } = outcome;
  expect(rounds.length).toBeGreaterThanOrEqual(1);
  expect(rounds.length).toBeLessThanOrEqual(maxRevisions + 1);
  const images = new Map(
    events.flatMap((e) => (e.type === 'round' && e.image ? [[e.round.id, e.image.png] as const] : [])),
  );
  rounds.forEach((r: RoundRecord, i) => {
    expect(r.outputImage).toBe(sha256(images.get(r.id)!));
    expect(r.results).toHaveLength(outcome.checks.length);
    for (const x of r.results) {
      if (x.pYes === null) expect(x.passed).toBe(false);
      else {
        expect(x.pYes).toBeGreaterThanOrEqual(0);
        expect(x.pYes).toBeLessThanOrEqual(1);
        expect(x.passed).toBe(x.pYes >= threshold);
      }
    }
    if (i > 0) {
      expect(r.parentId).toBe(rounds[i - 1]!.id);
      if (r.mode === 'edit') expect(r.inputImages).toEqual([rounds[i - 1]!.outputImage]);
    }
  });
  // §4.6: the stop reason matches the last round, and the best round is the top score, ties → earlier.
  const last = rounds.at(-1)!;
  if (outcome.stopReason === 'done') expect(last.score!.passed).toBe(last.score!.total);
  if (outcome.stopReason === 'max-rounds') expect(rounds.length).toBe(maxRevisions + 1);
  const best = rounds.find((r) => r.id === outcome.bestRoundId)!;
  for (const [i, r] of rounds.entries()) {
    const order = compareScores(r.score!, best.score!);
    expect(order <= 0 && !(order === 0 && i < rounds.indexOf(best))).toBe(true);
  }
}

describe('reflection on the tiny golden model, end to end (engine)', () => {
  test('the answer tokens resolve in the tokenizer, and <|img|> is not among them', async () => {
    const tokenizer = await loadTokenizer(join(modelDir, 'processor'));
    const { text } = await models.open(modelDir).mllm();
    const critic = await ModelCritic.create(async () => ({
      tokenizer,
      text,
      vision: async () => {
        throw new Error('unused');
      },
    }));
    const img = tokenizer.specialTokenId('<|img|>');
    expect([...critic.answers.yes, ...critic.answers.no]).not.toContain(img);
    expect(critic.answers.yes).toEqual([tokenizer.encode('Yes')[0], tokenizer.encode('yes')[0]]);
  });

  test('p_yes from the cached image prefix equals a full prefill of the same turn (§4.3)', async () => {
    const mllm = await models.open(modelDir).mllm();
    const calls: { cached: number; fresh: number }[] = [];
    const text: QwenTextModel = Object.assign(Object.create(mllm.text) as QwenTextModel, {
      forward: (input: TextForwardInput) => {
        calls.push({ cached: input.cache?.length ?? 0, fresh: input.positions.length });
        return mllm.text.forward(input);
      },
    });
    const critic = await ModelCritic.create(async () => ({ ...mllm, text }));
    const image = rgbImage(
      70,
      42,
      Uint8Array.from({ length: 70 * 42 * 3 }, (_, i) => (i * 37) % 251),
    );
    const view = { prompt: 'a photo of a red cup', result: image, source: null };
    const inspection = await critic.inspect(view);
    const questions = ['Is there a cup in the picture?', 'Is the cup red?'];
    const got = [];
    for (const q of questions) got.push(await inspection.pYes(q));
    // One prefill of system + image + intro, then each question as a suffix on its cache.
    expect(calls).toHaveLength(3);
    expect(calls.slice(1).every((c) => c.cached === calls[0]!.fresh && c.fresh < calls[0]!.fresh)).toBe(true);

    // The same turn built independently and run in one piece.
    const cfg = mllm.text.config;
    const input = preprocessForQwen(image);
    const grid = { t: input.gridThw[0], h: input.gridThw[1], w: input.gridThw[2] };
    const rows = await (await mllm.vision()).embedImages([input]);
    for (const [i, q] of questions.entries()) {
      const turn = conversationPrompt(
        [
          { role: 'system', content: QWEN_SYSTEM_PROMPT },
          { role: 'user', content: [{ type: 'image' }, { type: 'text', text: critiqueIntro(view) + questionTurn(q) }] },
        ],
        { addGenerationPrompt: true, labelImages: false },
      );
      const ids = mllm.tokenizer.encode(expandImagePads(turn.text, [grid], cfg.spatialMergeSize));
      const embeds = mllm.text.embed(ids);
      spliceImageRows(embeds, ids, cfg.imageTokenId, rows, cfg.hiddenSize);
      const out = await mllm.text.forward({
        embeds,
        positions: mropePositionIds(ids, [grid], {
          imageTokenId: cfg.imageTokenId,
          spatialMergeSize: cfg.spatialMergeSize,
        }),
      });
      expect(Math.abs(got[i]! - yesProbability(out.logits, critic.answers)), q).toBeLessThan(1e-5);
    }
    inspection.release();
  });

  test('a templated prompt: parsed checks, p_yes in [0, 1], rounds linked, stop rule and best round coherent, deterministic', async () => {
    const first = await run(job());
    expect(first.outcome.checklistSource).toBe('template');
    expect(first.outcome.checks.map((c) => c.question)).toEqual(['Is there a cup in the picture?', 'Is the cup red?']);
    expectCoherent(first.outcome, first.events, { maxRevisions: 2, threshold: 0.5 });
    expect(first.progress.some((p) => p.stage === 'denoising' && p.step === 2 && p.total === 2)).toBe(true);
    const again = await run(job());
    expect(again.outcome.rounds.map((r) => r.results.map((x) => x.pYes))).toEqual(
      first.outcome.rounds.map((r) => r.results.map((x) => x.pYes)),
    );
  });

  test('a free-form prompt asks the MLLM for checks (or falls back), and forced modes are followed', async () => {
    const { outcome, events } = await run(
      job({ prompt: 'a lighthouse at dusk', force: ['edit', 'regenerate'], threshold: 1 }),
    );
    expect(['model', 'fallback']).toContain(outcome.checklistSource);
    const listed = events.find((e) => e.type === 'checklist');
    expect(listed).toMatchObject({ type: 'checklist', raw: expect.any(String) });
    expect(outcome.rounds.map((r) => r.mode)).toEqual(['generate', 'edit', 'regenerate']);
    expect(outcome.rounds[0]!.fix).toMatchObject({
      raw: expect.any(String),
      instruction: expect.stringMatching(/^(Add|Remove|Replace|Change|Move|Make)\b/),
    });
    expect(outcome.rounds[1]!.text).toBe(outcome.rounds[0]!.fix!.instruction);
    expect(outcome.stopReason).toBe('max-rounds'); // threshold 1: nothing passes
    expectCoherent(outcome, events, { maxRevisions: 2, threshold: 1 });
  });

  test("an edit job critiques source and result together and names the source as round 0's input", async () => {
    const source = await sharp(Buffer.alloc(48 * 64 * 3, 200), { raw: { width: 48, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    const { outcome, events } = await run(
      job({
        prompt: 'make the cup red',
        images: [new Uint8Array(source)],
        maxRevisions: 1,
        threshold: 1,
        force: ['regenerate'],
      }),
    );
    expect(outcome.rounds[0]!.inputImages).toEqual([sha256(source)]);
    expect(outcome.rounds[1]).toMatchObject({ mode: 'regenerate', inputImages: [sha256(source)] });
    expectCoherent(outcome, events, { maxRevisions: 1, threshold: 1 });
  });
});
