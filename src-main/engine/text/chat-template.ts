import { Template } from '@huggingface/jinja';
import { TokenizerError } from './tokenizer-error.ts';

/** One piece of a multimodal message; an image part stands for one picture. */
export type PromptPart = { readonly type: 'text'; readonly text: string } | { readonly type: 'image' };

/** A chat message in the shape Qwen chat templates expect (string content, or a list of parts). */
export interface PromptMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string | readonly PromptPart[];
}

/** The special-token strings transformers hands every template (`**tokenizer.special_tokens_map`). */
const TEMPLATE_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const;

/** A model's Jinja chat template, compiled once. */
export class ChatTemplate {
  private constructor(
    private readonly template: Template,
    private readonly tokenVariables: Readonly<Record<string, unknown>>,
    readonly file: string,
  ) {}

  /** @param tokenizerConfig tokenizer_config.json, for the special-token variables templates may use. */
  static compile(text: string, file: string, tokenizerConfig: Readonly<Record<string, unknown>>): ChatTemplate {
    let template: Template;
    try {
      // @huggingface/jinja applies trim_blocks and lstrip_blocks, as transformers' Jinja environment does.
      template = new Template(text);
    } catch (e) {
      throw new TokenizerError(
        'bad-chat-template',
        file,
        `the chat template in ${file} does not parse: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return new ChatTemplate(template, templateTokenVariables(tokenizerConfig), file);
  }

  /** Renders like `apply_chat_template(messages, tokenize=False, add_generation_prompt=…)`. */
  render(messages: readonly PromptMessage[], options: { addGenerationPrompt: boolean }): string {
    try {
      return this.template.render({
        ...this.tokenVariables,
        messages,
        add_generation_prompt: options.addGenerationPrompt,
      });
    } catch (e) {
      throw new TokenizerError(
        'bad-chat-template',
        this.file,
        `the chat template in ${this.file} failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

function templateTokenVariables(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const key of TEMPLATE_TOKEN_KEYS) {
    const v = config[key];
    // Older configs store a token as an AddedToken object ({ content, … }) instead of a string.
    const content =
      typeof v === 'string'
        ? v
        : typeof v === 'object' && v !== null
          ? (v as { content?: unknown }).content
          : undefined;
    if (typeof content === 'string') vars[key] = content;
  }
  const extra = config['additional_special_tokens'];
  if (Array.isArray(extra)) vars['additional_special_tokens'] = extra;
  return vars;
}
