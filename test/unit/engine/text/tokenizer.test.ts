import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SPECIAL_TOKENS } from '../../../../src-main/engine/text/special-tokens.ts';
import { loadTokenizer, type Tokenizer } from '../../../../src-main/engine/text/tokenizer.ts';
import { goldenDir } from '../../../helpers/golden.ts';

// The golden tiny tokenizer: byte-level BPE with the Qwen special tokens at ids 998–1006.
const processorDir = join(goldenDir(), 'e2e/model/processor');
const original = (name: string) => readFileSync(join(processorDir, name), 'utf8');
const configWithoutTemplate = () => {
  const { chat_template: _dropped, ...rest } = JSON.parse(original('tokenizer_config.json')) as Record<string, unknown>;
  return JSON.stringify(rest);
};

let scratch: string[] = [];
/** A processor folder holding exactly `files` (name → contents). */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-tok-'));
  scratch.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterEach(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
  scratch = [];
});

describe('loadTokenizer: files', () => {
  test('a missing folder is not-found', async () => {
    await expect(loadTokenizer(join(tmpdir(), 'atelier-no-such-processor'))).rejects.toMatchObject({
      name: 'TokenizerError',
      code: 'not-found',
    });
  });
  test('a missing tokenizer.json is not-found and names the file', async () => {
    const dir = folder({ 'tokenizer_config.json': original('tokenizer_config.json') });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'not-found', path: join(dir, 'tokenizer.json') });
  });
  test('a missing tokenizer_config.json is not-found', async () => {
    const dir = folder({ 'tokenizer.json': original('tokenizer.json') });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: 'not-found',
      path: join(dir, 'tokenizer_config.json'),
    });
  });
  test('a truncated tokenizer.json is corrupt', async () => {
    const dir = folder({
      'tokenizer.json': original('tokenizer.json').slice(0, 5000),
      'tokenizer_config.json': original('tokenizer_config.json'),
    });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'corrupt', path: join(dir, 'tokenizer.json') });
  });
  test('a tokenizer.json without a model is corrupt', async () => {
    const dir = folder({
      'tokenizer.json': '{"version":"1.0"}',
      'tokenizer_config.json': original('tokenizer_config.json'),
    });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'corrupt', path: dir });
  });
  test('a JSON array where an object belongs is corrupt', async () => {
    const dir = folder({ 'tokenizer.json': original('tokenizer.json'), 'tokenizer_config.json': '[]' });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: 'corrupt',
      path: join(dir, 'tokenizer_config.json'),
    });
  });
});

describe('loadTokenizer: chat template source', () => {
  const messages = [{ role: 'user', content: 'hi' }] as const;
  test('falls back to chat_template.json when tokenizer_config.json has none', async () => {
    const dir = folder({
      'tokenizer.json': original('tokenizer.json'),
      'tokenizer_config.json': configWithoutTemplate(),
      'chat_template.json': original('chat_template.json'),
    });
    const tok = await loadTokenizer(dir);
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
  });
  test('prefers tokenizer_config.json, which is what tokenizer.apply_chat_template uses', async () => {
    const config = JSON.stringify({
      ...JSON.parse(original('tokenizer_config.json')),
      chat_template: 'CONFIG{{ messages[0].content }}',
    });
    const dir = folder({
      'tokenizer.json': original('tokenizer.json'),
      'tokenizer_config.json': config,
      'chat_template.json': '{"chat_template":"PROCESSOR"}',
    });
    expect((await loadTokenizer(dir)).applyChatTemplate(messages, { addGenerationPrompt: false })).toBe('CONFIGhi');
  });
  test('takes the "default" entry of a list of named templates', async () => {
    const config = JSON.stringify({
      ...JSON.parse(original('tokenizer_config.json')),
      chat_template: [
        { name: 'tool_use', template: 'TOOLS' },
        { name: 'default', template: 'DEFAULT' },
      ],
    });
    const dir = folder({ 'tokenizer.json': original('tokenizer.json'), 'tokenizer_config.json': config });
    expect((await loadTokenizer(dir)).applyChatTemplate(messages, { addGenerationPrompt: false })).toBe('DEFAULT');
  });
  test('passes the special-token variables transformers gives templates', async () => {
    const config = JSON.stringify({
      ...JSON.parse(original('tokenizer_config.json')),
      chat_template: '{{ eos_token }}|{{ pad_token }}',
    });
    const dir = folder({ 'tokenizer.json': original('tokenizer.json'), 'tokenizer_config.json': config });
    expect((await loadTokenizer(dir)).applyChatTemplate(messages, { addGenerationPrompt: false })).toBe(
      '<|im_end|>|<|endoftext|>',
    );
  });
  test('no template anywhere loads, but templating is no-chat-template', async () => {
    const dir = folder({
      'tokenizer.json': original('tokenizer.json'),
      'tokenizer_config.json': configWithoutTemplate(),
    });
    const tok = await loadTokenizer(dir);
    expect(tok.hasChatTemplate).toBe(false);
    expect(tok.encode('A')).toEqual([65]);
    expect(() => tok.applyChatTemplate(messages, { addGenerationPrompt: false })).toThrow(
      expect.objectContaining({ code: 'no-chat-template' }),
    );
  });
  test('a chat_template.json without a template is corrupt', async () => {
    const dir = folder({
      'tokenizer.json': original('tokenizer.json'),
      'tokenizer_config.json': configWithoutTemplate(),
      'chat_template.json': '{"other":1}',
    });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({ code: 'corrupt', path: join(dir, 'chat_template.json') });
  });
  test('a template that does not parse is bad-chat-template at load, naming its file', async () => {
    const config = JSON.stringify({
      ...JSON.parse(original('tokenizer_config.json')),
      chat_template: '{% for m in %}',
    });
    const dir = folder({ 'tokenizer.json': original('tokenizer.json'), 'tokenizer_config.json': config });
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: 'bad-chat-template',
      path: join(dir, 'tokenizer_config.json'),
    });
  });
  test('a template that raises is bad-chat-template at render', async () => {
    const config = JSON.stringify({
      ...JSON.parse(original('tokenizer_config.json')),
      chat_template: '{{ raise_exception("roles must alternate") }}',
    });
    const dir = folder({ 'tokenizer.json': original('tokenizer.json'), 'tokenizer_config.json': config });
    const tok = await loadTokenizer(dir);
    expect(() => tok.applyChatTemplate(messages, { addGenerationPrompt: false })).toThrow(/roles must alternate/);
  });
});

describe('Tokenizer on the golden tiny tokenizer', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(processorDir);
  });

  test('special token ids come from the tokenizer', () => {
    const want = {
      imStart: 1002,
      imEnd: 1003,
      visionStart: 998,
      visionEnd: 999,
      imagePad: 1000,
      endOfText: 1004,
      img: 1005,
    };
    for (const [key, token] of Object.entries(SPECIAL_TOKENS))
      expect(tok.specialTokenId(token), token).toBe(want[key as keyof typeof want]);
  });
  test('decoding nothing gives empty text, and so does flushing an unused stream', () => {
    expect(tok.decode([])).toBe('');
    expect(tok.streamDecoder().flush()).toBe('');
  });
  test('an unknown special token is missing-special-token', () => {
    expect(tok.hasSpecialToken('<|box_start|>')).toBe(false);
    expect(() => tok.specialTokenId('<|box_start|>')).toThrow(
      expect.objectContaining({ code: 'missing-special-token', path: processorDir }),
    );
  });
  test('special tokens are matched whole, even glued to text', () => {
    expect(tok.encode('x<|img|>y<|im_end|>')).toEqual([120, 1005, 121, 1003]);
    expect(tok.encode('<|img')).toEqual([60, 124, 105, 109, 103]); // incomplete: plain bytes
  });
  test('decode keeps or skips special tokens', () => {
    const ids = tok.encode('<|img|>A cat.<|im_end|>');
    expect(tok.decode(ids)).toBe('<|img|>A cat.<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('A cat.');
  });
  test('decode takes int64 ids and does not clean up spaces before punctuation', () => {
    expect(tok.decode(BigInt64Array.from(tok.encode('a , b .'), BigInt))).toBe('a , b .');
  });
  test('maxLength truncates on the right', () => {
    expect(tok.encode('<|im_start|>user', { maxLength: 2 })).toEqual([1002, 117]);
    expect(tok.encode('ab', { maxLength: 10 })).toEqual([97, 98]);
    expect(() => tok.encode('ab', { maxLength: 0 })).toThrow(RangeError);
  });
  test('NFC normalisation: a decomposed é encodes like the composed one', () => {
    expect(tok.encode('e\u0301')).toEqual(tok.encode('\u00e9'));
  });
});
