import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWorkerEngine } from '../../../../src-main/engine/host/worker-engine.ts';
import type { EngineProgress } from '../../../../src-main/engine/host/protocol.ts';
import { encodePng } from '../../../../src-main/engine/image/encode-png.ts';
import { rgbImage } from '../../../../src-main/engine/image/rgb-image.ts';
import { ChatPipeline } from '../../../../src-main/engine/pipeline/chat.ts';
import type { ChatJob, ChatOutcome } from '../../../../src-main/engine/pipeline/chat-job.ts';
import { chatConversationPrompt, type ChatTurn } from '../../../../src-main/engine/text/prompts.ts';
import { goldenDir } from '../../../helpers/golden.ts';

// The golden e2e model: random tiny weights, so replies are gibberish but deterministic for a seed.
const modelDir = join(goldenDir(), 'e2e', 'model');
const SAMPLED = { temperature: 1, topP: 0.95 };
const image = rgbImage(
  56,
  56,
  Uint8Array.from({ length: 56 * 56 * 3 }, (_, i) => (i * 37) % 256),
);

describe('chat through the engine host (worker thread)', () => {
  const engine = startWorkerEngine();
  let local: ChatPipeline;
  beforeAll(async () => {
    local = await ChatPipeline.load(modelDir);
  });
  afterAll(async () => {
    await Promise.all([engine.dispose(), local.release()]);
  });

  async function ask(jobId: string, job: Partial<ChatJob>, onProgress?: (p: EngineProgress) => void) {
    const pieces: string[] = [];
    const outcome = (await engine.run(
      jobId,
      { kind: 'chat', job: { modelDir, turns: [{ role: 'user', text: 'What is in image 1?' }], images: [], ...job } },
      {
        onProgress: (p) => {
          if (p.report?.kind === 'chat') pieces.push(p.report.piece);
          onProgress?.(p);
        },
      },
    )) as ChatOutcome;
    return { outcome, pieces };
  }

  test('streams the answer piece by piece; the pieces spell the same reply as the in-process pipeline', async () => {
    const turns = [{ role: 'user' as const, text: 'What is in image 1?' }];
    const { outcome, pieces } = await ask('stream', {
      turns,
      images: [await encodePng(image)],
      maxNewTokens: 12,
      sampling: SAMPLED,
      seed: 5,
    });
    const want = await local.chat({ turns, images: [image], maxNewTokens: 12, sampling: SAMPLED, seed: 5 });
    expect(pieces.length).toBeGreaterThan(2);
    expect(outcome.text).toBe(want.text);
    if (!outcome.wantsImage) expect(pieces.join('')).toBe(want.text);
    expect(outcome).toMatchObject({
      newTokens: want.tokens.length,
      promptTokens: want.promptTokens,
      stopReason: want.stopReason,
    });
    expect(outcome.firstTokenMs).toBeGreaterThanOrEqual(0);
    expect(outcome.decodeMs).toBeGreaterThanOrEqual(0);
  });

  test('multi-turn: the earlier turns and the images are in the prompt', async () => {
    const first: ChatTurn[] = [{ role: 'user', text: 'What is in image 1?' }];
    const turns: ChatTurn[] = [
      ...first,
      { role: 'assistant', text: 'A pattern.' },
      { role: 'user', text: 'Which colours?' },
    ];
    const one = await ask('turn-1', { turns: first, images: [await encodePng(image)], maxNewTokens: 2 });
    const three = await ask('turn-3', { turns, images: [await encodePng(image)], maxNewTokens: 2 });
    const textOnly = await ask('turn-3-no-image', { turns, maxNewTokens: 2 });
    const tokens = (t: ChatTurn[]) => local.tokenizer.encode(chatConversationPrompt(t, 0)).length;
    expect(three.outcome.promptTokens - one.outcome.promptTokens).toBe(tokens(turns) - tokens(first));
    expect(textOnly.outcome.promptTokens).toBe(tokens(turns));
    expect(three.outcome.promptTokens).toBeGreaterThan(tokens(turns) + 4); // <img1>: and the image's pads
  });

  test('stop: cancelling mid-answer ends the job with a typed error, and the engine answers again', async () => {
    const controller = new AbortController();
    let seen = 0;
    const run = engine.run(
      'stop-me',
      {
        kind: 'chat',
        job: {
          modelDir,
          turns: [{ role: 'user', text: 'Tell a long story.' }],
          images: [],
          maxNewTokens: 200,
          sampling: SAMPLED,
          seed: 1,
        },
      },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.report?.kind === 'chat' && ++seen === 2) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen).toBeLessThan(200);
    await expect(ask('after-stop', { maxNewTokens: 2 })).resolves.toMatchObject({
      outcome: { newTokens: expect.any(Number) },
    });
  });
});
