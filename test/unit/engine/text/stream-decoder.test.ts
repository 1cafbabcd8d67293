import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { StreamDecoder } from '../../../../src-main/engine/text/stream-decoder.ts';
import { loadTokenizer, type Tokenizer } from '../../../../src-main/engine/text/tokenizer.ts';
import { goldenDir } from '../../../helpers/golden.ts';

/** Streams `ids` one at a time; returns every chunk, the flushed rest last. */
function stream(decoder: StreamDecoder, ids: readonly number[]): string[] {
  return [...ids.map((id) => decoder.push(id)), decoder.flush()];
}

describe('StreamDecoder on the golden tiny tokenizer (every non-ASCII character spans several byte tokens)', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(join(goldenDir(), 'e2e/model/processor'));
  });

  test('holds back the first byte of é and emits it whole with the second', () => {
    const ids = tok.encode('é'); // [195, 169]
    expect(ids).toHaveLength(2);
    expect(tok.decode(ids.slice(0, 1))).toBe('\uFFFD'); // what a naive per-token decode would show
    const d = tok.streamDecoder();
    expect(d.push(ids[0]!)).toBe('');
    expect(d.push(ids[1]!)).toBe('é');
    expect(d.flush()).toBe('');
  });

  const texts = ['héllo wörld 123 — ünïcode ✓', '猫が好き 🐈‍⬛ ok', '<|img|>Sure.<|im_end|>', 'a\uFFFDb'];
  test.each(texts)('chunks of %j join to the full decode and never hold a broken character', (text) => {
    const ids = tok.encode(text);
    const chunks = stream(tok.streamDecoder(), ids);
    expect(chunks.join('')).toBe(tok.decode(ids));
    if (!text.includes('\uFFFD')) for (const c of chunks) expect(c).not.toContain('\uFFFD');
  });

  test('skipping special tokens streams only the text', () => {
    const chunks = stream(tok.streamDecoder({ skipSpecialTokens: true }), tok.encode('<|img|>ça<|im_end|>'));
    expect(chunks.join('')).toBe('ça');
  });

  test('an incomplete character at the end comes out of flush as U+FFFD, like a full decode', () => {
    const ids = tok.encode('a✓').slice(0, -1); // ✓ is three bytes; drop the last
    const chunks = stream(tok.streamDecoder(), ids);
    expect(chunks.slice(0, -1).join('')).toBe('a');
    expect(chunks.join('')).toBe(tok.decode(ids));
  });

  test('flush resets the decoder for the next reply', () => {
    const d = tok.streamDecoder();
    stream(d, tok.encode('first'));
    expect(stream(d, tok.encode('second')).join('')).toBe('second');
  });
});

describe('StreamDecoder with a context-dependent decoder', () => {
  // A Metaspace-like decoder: "▁" becomes a space, except at the start of the decoded run.
  const vocab = ['▁Hello', '▁world', '!'];
  const decode = (ids: readonly number[]) =>
    ids
      .map((i) => vocab[i]!)
      .join('')
      .replaceAll('▁', ' ')
      .replace(/^ /, '');
  test('keeps the previous tokens as context so word-initial spaces survive', () => {
    expect(stream(new StreamDecoder(decode), [0, 1, 2])).toEqual(['Hello', ' world', '!', '']);
  });
});
