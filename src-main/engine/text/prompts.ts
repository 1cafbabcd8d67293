import type { PromptMessage, PromptPart } from './chat-template.ts';
import { SPECIAL_TOKENS } from './special-tokens.ts';

const { imStart, imEnd, visionStart, visionEnd, imagePad, img } = SPECIAL_TOKENS;

/** The system turn of every OmniGen2 prompt, generation and chat alike (§2.1, §2.2). */
export const OMNIGEN2_SYSTEM_PROMPT =
  'You are a helpful assistant that generates high-quality images based on user instructions.';

/** Stock Qwen2.5-VL system turn: for understanding-only calls such as reflection critiques, where the image-generation
 *  system prompt would steer the model toward `<|img|>` (reflection.md §4.3). */
export const QWEN_SYSTEM_PROMPT = 'You are a helpful assistant.';

/** The pipelines' negative prompt when none is given (`negative_prompt=None` → "", §2.1). */
export const DEFAULT_NEGATIVE_PROMPT = '';

/** The negative prompt the official scripts and Gradio app pass by default (§2.1). */
export const OFFICIAL_NEGATIVE_PROMPT =
  '(((deformed))), blurry, over saturation, bad anatomy, disfigured, poorly drawn face, mutation, mutated, (extra_limb), (ugly), ' +
  '(poorly drawn hands), fused fingers, messy drawing, broken legs censor, censored, censor_bar';

/** Strings that end a chat reply (§7.1); resolve their ids with `Tokenizer.specialTokenId`. */
export const CHAT_STOP_TOKENS = [SPECIAL_TOKENS.imEnd, SPECIAL_TOKENS.img, SPECIAL_TOKENS.endOfText] as const;

/** What `generationPrompt` needs from a tokenizer: the model's own chat template. */
export interface ChatTemplating {
  applyChatTemplate(messages: readonly PromptMessage[], options: { addGenerationPrompt: boolean }): string;
}

/**
 * Conditioning text of the standard pipeline (§2.1): system + user turns through the model's chat template,
 * without the assistant header. Input images are not mentioned here; they reach the DiT through the VAE only.
 */
export function generationPrompt(tokenizer: ChatTemplating, instruction: string): string {
  return tokenizer.applyChatTemplate(
    [
      { role: 'system', content: OMNIGEN2_SYSTEM_PROMPT },
      { role: 'user', content: instruction },
    ],
    { addGenerationPrompt: false },
  );
}

/** The standard pipeline's unconditional text (§2.1): the negative prompt, templated like the positive one. */
export function negativeGenerationPrompt(
  tokenizer: ChatTemplating,
  negative: string = DEFAULT_NEGATIVE_PROMPT,
): string {
  return generationPrompt(tokenizer, negative);
}

/** One turn of a chat conversation as the app and the CLI keep it (images are held beside the turns). */
export interface ChatTurn {
  readonly role: 'user' | 'assistant';
  readonly text: string;
}

/**
 * The chat pipeline's prompt (§2.2), built by hand as `OmniGen2ChatPipeline` does: `<img1>: ` … `<imgK>: ` each
 * followed by one vision block, then the instruction, then the assistant header. Expand the image pads with
 * `expandImagePads` before tokenizing.
 */
export function chatPrompt(instruction: string, imageCount: number): string {
  return chatConversationPrompt([{ role: 'user', text: instruction }], imageCount);
}

/**
 * A multi-turn conversation in the §2.2 format: the system turn, then every turn, then the assistant header. The
 * images open the first user turn, labelled `<img1>`… as in the single-turn prompt, so "image 2" names the same
 * picture in every turn and a one-turn conversation is exactly `chatPrompt`. The last turn must be the user's.
 */
export function chatConversationPrompt(turns: readonly ChatTurn[], imageCount: number): string {
  if (!Number.isInteger(imageCount) || imageCount < 0)
    throw new RangeError(`imageCount must be a non-negative integer, got ${imageCount}`);
  if (turns.length === 0 || turns.at(-1)!.role !== 'user')
    throw new RangeError('a chat prompt must end with a user turn');
  if (turns[0]!.role !== 'user') throw new RangeError('a chat conversation must start with a user turn');
  const images = Array.from({ length: imageCount }, (): PromptPart => ({ type: 'image' }));
  const messages: PromptMessage[] = turns.map((turn, i) => ({
    role: turn.role,
    content: i === 0 ? [...images, { type: 'text', text: turn.text }] : turn.text,
  }));
  return conversationPrompt([{ role: 'system', content: OMNIGEN2_SYSTEM_PROMPT }, ...messages], {
    addGenerationPrompt: true,
    labelImages: true,
  }).text;
}

/** The chat pipeline's negative prompt (§2.2): the chat format with no images. */
export function chatNegativePrompt(negative: string = DEFAULT_NEGATIVE_PROMPT): string {
  return chatPrompt(negative, 0);
}

export interface ConversationOptions {
  /** End with `<|im_start|>assistant\n` so the model answers next. */
  readonly addGenerationPrompt: boolean;
  /** Prefix each image with `<imgN>: `, numbered 1… across the whole conversation, as the chat pipeline does. */
  readonly labelImages: boolean;
}

/**
 * Any conversation in the chat pipeline's hand-built format (§2.2), for multi-turn uses such as reflection:
 * `<|im_start|>{role}\n{content}<|im_end|>\n` per message, image parts as `<|vision_start|><|image_pad|><|vision_end|>`.
 * No system turn is added implicitly. Returns the text and the number of images, in the order their pixels
 * must be given to the vision tower.
 */
export function conversationPrompt(
  messages: readonly PromptMessage[],
  options: ConversationOptions,
): { text: string; imageCount: number } {
  let imageCount = 0;
  const renderPart = (part: PromptPart): string => {
    if (part.type === 'text') return part.text;
    imageCount++;
    return `${options.labelImages ? `<img${imageCount}>: ` : ''}${visionStart}${imagePad}${visionEnd}`;
  };
  let text = '';
  for (const m of messages) {
    const content = typeof m.content === 'string' ? m.content : m.content.map(renderPart).join('');
    text += `${imStart}${m.role}\n${content}${imEnd}\n`;
  }
  if (options.addGenerationPrompt) text += `${imStart}assistant\n`;
  return { text, imageCount };
}

/** An image's patch grid as the Qwen2-VL image processor reports it (`image_grid_thw`, 14-px patches). */
export interface ImageGrid {
  readonly t: number;
  readonly h: number;
  readonly w: number;
}

/** How many `<|image_pad|>` tokens one image occupies: one per merged `mergeSize`×`mergeSize` patch window (§2.4). */
export function imagePadCount(grid: ImageGrid, mergeSize: number): number {
  const { t, h, w } = grid;
  const whole = (n: number, step: number) => Number.isInteger(n) && n > 0 && n % step === 0;
  if (!whole(t, 1) || !whole(h, mergeSize) || !whole(w, mergeSize)) {
    throw new RangeError(`image grid ${t}×${h}×${w} does not tile into ${mergeSize}×${mergeSize} merge windows`);
  }
  return (t * h * w) / (mergeSize * mergeSize);
}

/**
 * Replaces the k-th `<|image_pad|>` by `imagePadCount(grids[k])` copies, as the Qwen2.5-VL processor does before
 * tokenizing. Throws if the prompt's image placeholders and the images disagree in number (the model would fail later).
 */
export function expandImagePads(text: string, grids: readonly ImageGrid[], mergeSize: number): string {
  const pieces = text.split(imagePad);
  if (pieces.length - 1 !== grids.length) {
    throw new RangeError(
      `the prompt has ${pieces.length - 1} image placeholders but ${grids.length} images were given`,
    );
  }
  return pieces.reduce((out, piece, k) => out + imagePad.repeat(imagePadCount(grids[k - 1]!, mergeSize)) + piece);
}

/** A decoded chat reply (§7.1): it asks for an image when it starts with `<|img|>`. */
export interface ChatReply {
  readonly wantsImage: boolean;
  /** The reply as shown to the user: `<|im_end|>` removed (for an image request it is `<|img|>`…). */
  readonly text: string;
}

/**
 * Interprets text decoded with special tokens kept. When `wantsImage`, the image is conditioned on the chat prompt
 * itself: the pipeline appends the reply's text before `<|img|>`, which is empty (§7.1 step 3).
 */
export function readChatReply(decoded: string): ChatReply {
  return { wantsImage: decoded.startsWith(img), text: decoded.replaceAll(imEnd, '') };
}
