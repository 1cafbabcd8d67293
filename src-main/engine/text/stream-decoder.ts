/** Decodes a run of token ids to text (one tokenizer, one set of decode options). */
export type DecodeFn = (ids: readonly number[]) => string;

const REPLACEMENT_CHAR = '\uFFFD';

/**
 * Turns generated tokens into text one token at a time, for streaming chat output.
 *
 * Byte-level BPE splits many characters (CJK, emoji, accented letters) over several tokens; decoding a token
 * alone yields U+FFFD for the missing bytes. This holds text back while the decoded tail is U+FFFD and emits
 * only once the character is complete (the algorithm of the Rust `tokenizers` DecodeStream). It decodes the
 * pending tokens together with those of the previous emission, so decoders that look at neighbouring tokens
 * still see them, and the work per token stays small however long the reply grows.
 *
 * Invariant: the concatenation of every `push` result and `flush()` equals decoding all the ids at once.
 * A reply that genuinely contains U+FFFD delays that character until the next token or `flush()`.
 */
export class StreamDecoder {
  private ids: number[] = [];
  /** Text already emitted for `ids[0 .. readIndex)`. */
  private prefix = '';
  private readIndex = 0;

  constructor(private readonly decode: DecodeFn) {}

  /** Adds one generated token; returns the text it completes ('' while a character is still partial). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids);
    if (text.length <= this.prefix.length || text.endsWith(REPLACEMENT_CHAR)) return '';
    const fresh = this.sliceAfterPrefix(text);
    // Keep the ids decoded since the last emission as context; earlier ones can no longer change the output.
    this.ids = this.ids.slice(this.readIndex);
    this.readIndex = this.ids.length;
    this.prefix = this.decode(this.ids);
    return fresh;
  }

  /** Text still held back (an incomplete character at the end of generation decodes to U+FFFD, as in a full decode). */
  flush(): string {
    const text = this.decode(this.ids);
    const rest = text.length > this.prefix.length ? this.sliceAfterPrefix(text) : '';
    this.ids = [];
    this.prefix = '';
    this.readIndex = 0;
    return rest;
  }

  private sliceAfterPrefix(text: string): string {
    if (!text.startsWith(this.prefix)) {
      throw new Error(
        `streaming decode lost sync: "${text}" does not extend "${this.prefix}" (the tokenizer's decoder is not prefix-stable)`,
      );
    }
    return text.slice(this.prefix.length);
  }
}
