import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ChatTemplate, type PromptMessage } from './chat-template.ts';
import { StreamDecoder } from './stream-decoder.ts';
import { TokenizerError } from './tokenizer-error.ts';
import { readProcessorFiles, type ProcessorFiles } from './tokenizer-files.ts';

export interface EncodeOptions {
  /** Keep at most this many ids, cutting the end (transformers' `truncation=True, max_length=…`, right side). */
  readonly maxLength?: number;
}

export interface DecodeOptions {
  /** Drop tokens marked special (the chat pipeline keeps them to see `<|img|>`, §7.1). Default false. */
  readonly skipSpecialTokens?: boolean;
}

/**
 * A model's text tokenizer (Qwen2 byte-level BPE for OmniGen2, §1.6) with its chat template.
 * Encoding matches added tokens such as `<|im_start|>` as whole strings before BPE, as transformers does.
 */
export class Tokenizer {
  private constructor(
    private readonly hf: HfTokenizer,
    /** Every added token (special or not) by its text. */
    private readonly addedTokens: ReadonlyMap<string, number>,
    private readonly template: ChatTemplate | undefined,
    /** The processor folder, named in errors. */
    readonly source: string,
  ) {}

  /** Builds a tokenizer from already parsed processor files; throws TokenizerError('corrupt') if the library rejects them. */
  static fromFiles(files: ProcessorFiles): Tokenizer {
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig);
    } catch (e) {
      throw new TokenizerError(
        'corrupt',
        files.dir,
        `the tokenizer in ${files.dir} cannot be built: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const added = new Map<string, number>();
    for (const [id, token] of hf.get_added_tokens_decoder()) added.set(token.content, id);
    const template =
      files.chatTemplate &&
      ChatTemplate.compile(files.chatTemplate.text, files.chatTemplate.file, files.tokenizerConfig);
    return new Tokenizer(hf, added, template, files.dir);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    // Qwen2's post-processor adds no BOS/EOS, so this equals transformers' `tokenizer(text).input_ids`.
    const { maxLength } = options;
    if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength > 0)) {
      throw new RangeError(`maxLength must be a positive integer, got ${maxLength}`);
    }
    const ids = this.hf.encode(text).ids;
    return maxLength === undefined ? ids : ids.slice(0, maxLength);
  }

  /** Accepts int64 ids as the ONNX runtime returns them. Ids outside the vocabulary are dropped, as in `tokenizers`. */
  decode(ids: ArrayLike<number | bigint>, options: DecodeOptions = {}): string {
    if (ids.length === 0) return ''; // the underlying decoder throws on an empty list
    return this.hf.decode(Array.from(ids, Number), {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      // OmniGen2 decodes with clean_up_tokenization_spaces=False (§7.1); the cleanup would eat spaces before punctuation.
      clean_up_tokenization_spaces: false,
    });
  }

  /** A fresh incremental decoder for one generated reply. */
  streamDecoder(options: DecodeOptions = {}): StreamDecoder {
    return new StreamDecoder((ids) => this.decode(ids, options));
  }

  /**
   * The id of a special token by its text, read from the tokenizer's added tokens. Any added token is accepted,
   * not only those flagged special: a token such as `<|img|>` is matched whole either way, and a fine-tune may
   * have added it without the flag.
   */
  specialTokenId(token: string): number {
    const id = this.addedTokens.get(token);
    if (id === undefined) {
      throw new TokenizerError(
        'missing-special-token',
        this.source,
        `the tokenizer in ${this.source} has no ${token} token; is this an OmniGen2 processor folder?`,
      );
    }
    return id;
  }

  hasSpecialToken(token: string): boolean {
    return this.addedTokens.has(token);
  }

  get hasChatTemplate(): boolean {
    return this.template !== undefined;
  }

  /** `apply_chat_template(messages, tokenize=False, add_generation_prompt=…)` with the model's own template. */
  applyChatTemplate(messages: readonly PromptMessage[], options: { addGenerationPrompt: boolean }): string {
    if (!this.template) {
      throw new TokenizerError(
        'no-chat-template',
        this.source,
        `${this.source} has no chat template (neither tokenizer_config.json nor chat_template.json carries one)`,
      );
    }
    return this.template.render(messages, options);
  }
}

/** Loads the tokenizer of a model from its `processor/` folder. Throws TokenizerError for missing or corrupt files. */
export async function loadTokenizer(processorDir: string): Promise<Tokenizer> {
  return Tokenizer.fromFiles(await readProcessorFiles(processorDir));
}
