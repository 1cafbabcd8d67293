import { describe, expect, test } from 'vitest';
import {
  CHAT_STOP_TOKENS,
  chatConversationPrompt,
  chatNegativePrompt,
  chatPrompt,
  conversationPrompt,
  expandImagePads,
  imagePadCount,
  OFFICIAL_NEGATIVE_PROMPT,
  readChatReply,
} from '../../../../src-main/engine/text/prompts.ts';

const SYSTEM =
  '<|im_start|>system\nYou are a helpful assistant that generates high-quality images based on user instructions.<|im_end|>\n';
const VISION = '<|vision_start|><|image_pad|><|vision_end|>';

describe('chat pipeline prompt (§2.2)', () => {
  test('two images: labelled vision blocks with no separator, then the instruction and the assistant header', () => {
    expect(chatPrompt('Put the cat on the sofa.', 2)).toBe(
      `${SYSTEM}<|im_start|>user\n<img1>: ${VISION}<img2>: ${VISION}Put the cat on the sofa.<|im_end|>\n<|im_start|>assistant\n`,
    );
  });
  test('no images: just the instruction', () => {
    expect(chatPrompt('Hello', 0)).toBe(`${SYSTEM}<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n`);
  });
  test('the negative prompt uses the chat format without images, default empty', () => {
    expect(chatNegativePrompt()).toBe(`${SYSTEM}<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n`);
    expect(chatNegativePrompt('blurry')).toBe(chatPrompt('blurry', 0));
  });
  test('rejects a nonsense image count', () => {
    expect(() => chatPrompt('x', -1)).toThrow(RangeError);
    expect(() => chatPrompt('x', 1.5)).toThrow(RangeError);
  });
});

describe('chatConversationPrompt (multi-turn chat, §2.2 format)', () => {
  test('images open the first user turn, labelled as in the single-turn prompt; earlier turns kept in order', () => {
    expect(
      chatConversationPrompt(
        [
          { role: 'user', text: 'What is in image 2?' },
          { role: 'assistant', text: 'A sofa.' },
          { role: 'user', text: 'Put the cat on it.' },
        ],
        2,
      ),
    ).toBe(
      `${SYSTEM}<|im_start|>user\n<img1>: ${VISION}<img2>: ${VISION}What is in image 2?<|im_end|>\n` +
        '<|im_start|>assistant\nA sofa.<|im_end|>\n' +
        '<|im_start|>user\nPut the cat on it.<|im_end|>\n<|im_start|>assistant\n',
    );
  });
  test('one user turn is exactly the single-turn chat prompt', () => {
    expect(chatConversationPrompt([{ role: 'user', text: 'Hi' }], 3)).toBe(chatPrompt('Hi', 3));
  });
  test('must start and end with a user turn', () => {
    expect(() => chatConversationPrompt([], 0)).toThrow(RangeError);
    expect(() =>
      chatConversationPrompt(
        [
          { role: 'user', text: 'a' },
          { role: 'assistant', text: 'b' },
        ],
        0,
      ),
    ).toThrow(/end with a user turn/);
    expect(() =>
      chatConversationPrompt(
        [
          { role: 'assistant', text: 'a' },
          { role: 'user', text: 'b' },
        ],
        0,
      ),
    ).toThrow(/start with a user turn/);
  });
});

describe('conversationPrompt (multi-turn, e.g. reflection)', () => {
  test('numbers images across turns and counts them', () => {
    const { text, imageCount } = conversationPrompt(
      [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Is it red?' }] },
        { role: 'assistant', content: 'No.' },
        { role: 'user', content: [{ type: 'text', text: 'And now? ' }, { type: 'image' }] },
      ],
      { addGenerationPrompt: true, labelImages: true },
    );
    expect(imageCount).toBe(2);
    expect(text).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
        `<|im_start|>user\n<img1>: ${VISION}Is it red?<|im_end|>\n` +
        '<|im_start|>assistant\nNo.<|im_end|>\n' +
        `<|im_start|>user\nAnd now? <img2>: ${VISION}<|im_end|>\n<|im_start|>assistant\n`,
    );
  });
  test('unlabelled images and no generation prompt', () => {
    const { text } = conversationPrompt([{ role: 'user', content: [{ type: 'image' }] }], {
      addGenerationPrompt: false,
      labelImages: false,
    });
    expect(text).toBe(`<|im_start|>user\n${VISION}<|im_end|>\n`);
  });
});

describe('image pad expansion', () => {
  test('one pad per merged 2×2 window', () => {
    expect(imagePadCount({ t: 1, h: 16, w: 12 }, 2)).toBe(48); // the golden mllm case: grid [1,16,12] → 48 tokens
    expect(imagePadCount({ t: 1, h: 74, w: 74 }, 2)).toBe(1369); // 1036² px
  });
  test('rejects a grid that is not whole merge windows', () => {
    expect(() => imagePadCount({ t: 1, h: 15, w: 12 }, 2)).toThrow(RangeError);
    expect(() => imagePadCount({ t: 1, h: 0, w: 12 }, 2)).toThrow(RangeError);
  });
  test("the k-th placeholder gets the k-th image's count, the rest of the text untouched", () => {
    const out = expandImagePads(
      chatPrompt('Swap them.', 2),
      [
        { t: 1, h: 4, w: 2 },
        { t: 1, h: 2, w: 2 },
      ],
      2,
    );
    expect(out).toBe(
      `${SYSTEM}<|im_start|>user\n` +
        '<img1>: <|vision_start|><|image_pad|><|image_pad|><|vision_end|><img2>: <|vision_start|><|image_pad|><|vision_end|>' +
        'Swap them.<|im_end|>\n<|im_start|>assistant\n',
    );
  });
  test('a placeholder/image count mismatch throws', () => {
    expect(() => expandImagePads(chatPrompt('x', 2), [{ t: 1, h: 2, w: 2 }], 2)).toThrow(
      /2 image placeholders but 1 images/,
    );
    expect(() => expandImagePads(chatPrompt('x', 0), [{ t: 1, h: 2, w: 2 }], 2)).toThrow(RangeError);
  });
  test('no images, no change', () => expect(expandImagePads('plain', [], 2)).toBe('plain'));
});

describe('chat reply (§7.1)', () => {
  test('a reply starting with <|img|> asks for an image', () => {
    expect(readChatReply('<|img|><|im_end|>')).toEqual({ wantsImage: true, text: '<|img|>' });
  });
  test('a text reply has <|im_end|> removed', () => {
    expect(readChatReply('A cat on a mat.<|im_end|>')).toEqual({ wantsImage: false, text: 'A cat on a mat.' });
  });
  test('<|img|> later in the reply is not an image request', () => {
    expect(readChatReply('Here: <|img|>').wantsImage).toBe(false);
  });
  test('stop tokens are named, not numbered', () =>
    expect(CHAT_STOP_TOKENS).toEqual(['<|im_end|>', '<|img|>', '<|endoftext|>']));
});

test('the official default negative prompt is verbatim (§2.1)', () => {
  expect(OFFICIAL_NEGATIVE_PROMPT).toBe(
    '(((deformed))), blurry, over saturation, bad anatomy, disfigured, poorly drawn face, mutation, mutated, (extra_limb), (ugly), (poorly drawn hands), fused fingers, messy drawing, broken legs censor, censored, censor_bar',
  );
});
