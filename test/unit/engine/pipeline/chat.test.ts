import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rgbImage } from '../../../../src-main/engine/image/rgb-image.ts';
import { ChatPipeline, type ChatResult } from '../../../../src-main/engine/pipeline/chat.ts';
import { textPositionIds } from '../../../../src-main/engine/sampling/mrope.ts';
import { chatPrompt } from '../../../../src-main/engine/text/prompts.ts';
import { SafetensorsFile } from '../../../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../../../src-main/engine/weights/safetensors-writer.ts';
import { goldenDir } from '../../../helpers/golden.ts';

// The golden e2e model: random tiny weights, so replies are gibberish but deterministic.
const modelDir = join(goldenDir(), 'e2e', 'model');
const QUESTION = 'What is in the picture?';

let chat: ChatPipeline;
beforeAll(async () => {
  chat = await ChatPipeline.load(modelDir);
});
afterAll(async () => {
  await chat.release();
});

/** The reply's tokens without its stop token: what the stream shows. */
const shownTokens = (r: ChatResult) => (r.stopReason === 'stop-token' ? r.tokens.slice(0, -1) : r.tokens);

async function run(request: Parameters<ChatPipeline['chat']>[0]) {
  const pieces: string[] = [];
  const result = await chat.chat({ ...request, onText: (p) => pieces.push(p) });
  return { result, pieces };
}

describe('ChatPipeline (§7.1)', () => {
  test('stop tokens are the chat stop strings the tokenizer knows (§7.1 step 2)', () => {
    const id = (t: string) => chat.tokenizer.specialTokenId(t);
    expect(chat.stopTokenIds.sort()).toEqual([id('<|im_end|>'), id('<|img|>'), id('<|endoftext|>')].sort());
  });

  test('greedy: deterministic, and the streamed pieces spell the reply', async () => {
    const a = await run({ turns: [{ role: 'user', text: QUESTION }], maxNewTokens: 12 });
    const b = await run({ turns: [{ role: 'user', text: QUESTION }], maxNewTokens: 12 });
    expect(b.result.tokens).toEqual(a.result.tokens);
    expect(a.pieces.join('')).toBe(chat.tokenizer.decode(shownTokens(a.result)));
    expect(a.result.promptTokens).toBe(chat.tokenizer.encode(chatPrompt(QUESTION, 0)).length);
  });

  test('max tokens bounds the reply', async () => {
    const { result } = await run({ turns: [{ role: 'user', text: QUESTION }], maxNewTokens: 3 });
    expect(result.tokens.length).toBeLessThanOrEqual(3);
    if (result.stopReason === 'max-tokens') expect(result.tokens.length).toBe(3);
  });

  test('sampling: the same seed repeats the reply, another seed changes it', async () => {
    const sampled = (seed: number) =>
      run({
        turns: [{ role: 'user', text: QUESTION }],
        maxNewTokens: 16,
        sampling: { temperature: 1, topP: 0.95 },
        seed,
      });
    const [a, b, c] = [await sampled(1), await sampled(1), await sampled(2)];
    expect(b.result.tokens).toEqual(a.result.tokens);
    expect(c.result.tokens).not.toEqual(a.result.tokens);
    // Greedy replies of these random weights repeat one token that ends mid-character (so they stream only at the
    // end); sampled ones show text arriving token by token.
    expect(a.pieces.length).toBeGreaterThan(2);
    expect(a.pieces.join('')).toBe(chat.tokenizer.decode(shownTokens(a.result)));
  });

  test('an image goes through the vision tower into the prompt', async () => {
    const pixels = Uint8Array.from({ length: 56 * 84 * 3 }, (_, i) => (i * 37) % 256);
    const a = await run({
      turns: [{ role: 'user', text: 'Describe <img1>.' }],
      images: [rgbImage(84, 56, pixels)],
      maxNewTokens: 6,
    });
    const textOnly = chat.tokenizer.encode(chatPrompt('Describe <img1>.', 1)).length;
    // 84×56 px → 6×4 patches of 14 px → 3×2 merged tokens replace the single <|image_pad|>.
    expect(a.result.promptTokens).toBe(textOnly - 1 + 6);
    const b = await run({
      turns: [{ role: 'user', text: 'Describe <img1>.' }],
      images: [rgbImage(84, 56, pixels)],
      maxNewTokens: 6,
    });
    expect(b.result.tokens).toEqual(a.result.tokens);
  });

  test('cancellation stops between tokens', async () => {
    const controller = new AbortController();
    let pieces = 0;
    const reply = chat.chat({
      turns: [{ role: 'user', text: QUESTION }],
      maxNewTokens: 64,
      signal: controller.signal,
      onText: () => {
        pieces++;
        controller.abort();
      },
    });
    await expect(reply).rejects.toMatchObject({ code: 'cancelled' });
    expect(pieces).toBe(1);
  });
});

describe('the <|img|> decision (§7.1 step 3)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-chat-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a reply that starts with <|img|> asks for an image and shows no text', async () => {
    // An LM head whose only non-zero row is <|img|>'s, aligned with the prompt's last hidden state, makes <|img|>
    // the first greedy token.
    const ids = chat.tokenizer.encode(chatPrompt(QUESTION, 0));
    const { lastHidden } = await chat.model.forward({
      embeds: chat.model.embed(ids),
      positions: textPositionIds(ids.length),
    });
    const { vocabSize: V, hiddenSize: D } = chat.model.config;
    const img = chat.tokenizer.specialTokenId('<|img|>');
    const head = new Float32Array(V * D);
    head.set(lastHidden.subarray((ids.length - 1) * D), img * D);

    for (const sub of ['mllm', 'processor']) mkdirSync(join(dir, sub));
    for (const f of readdirSync(join(modelDir, 'processor')))
      copyFileSync(join(modelDir, 'processor', f), join(dir, 'processor', f));
    copyFileSync(join(modelDir, 'mllm', 'config.json'), join(dir, 'mllm', 'config.json'));
    const src = SafetensorsFile.open(join(modelDir, 'mllm', 'model.safetensors'));
    const tensors: Record<string, TensorToWrite> = { 'lm_head.weight': { dtype: 'F32', shape: [V, D], data: head } };
    for (const info of src.tensors.values())
      tensors[info.name] = { dtype: 'F32', shape: info.shape, data: src.readFloat32(info.name) };
    writeSafetensors(join(dir, 'mllm', 'model.safetensors'), tensors);

    const asking = await ChatPipeline.load(dir);
    try {
      const pieces: string[] = [];
      const result = await asking.chat({ turns: [{ role: 'user', text: QUESTION }], onText: (p) => pieces.push(p) });
      expect(result).toMatchObject({ wantsImage: true, text: '<|img|>', tokens: [img], stopReason: 'stop-token' });
      expect(pieces).toEqual([]);
    } finally {
      await asking.release();
    }
  });
});
