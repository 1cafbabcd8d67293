import type { RgbImage } from '../image/rgb-image.ts';
import { chatConversationPrompt, chatNegativePrompt, DEFAULT_NEGATIVE_PROMPT, type ChatTurn } from '../text/prompts.ts';
import { chatDecoderPrompt, type ChatPromptParts } from './chat.ts';
import type { TextConditioning } from './conditioning.ts';

/**
 * Chat-mode conditioning (model-notes.md §2.2, `use_only_text_hidden_states=True`), beside the standard
 * one of conditioning.ts: the conversation in the hand-built chat format with the images labelled `<img1>`…,
 * the full MLLM (vision + text) over it, then every `<|image_pad|>` position dropped from the last hidden state.
 * The kept tokens (vision start/end, `<imgN>: `, the assistant header) carry what the model saw in the images.
 */
export async function encodeChatConditioning(
  parts: ChatPromptParts,
  turns: readonly ChatTurn[],
  images: readonly RgbImage[],
  signal?: AbortSignal,
): Promise<TextConditioning> {
  return encodeChatText(parts, chatConversationPrompt(turns, images.length), images, signal);
}

/** The chat-mode negative branch (§2.2): the negative prompt in the chat format, without images, text only. */
export function encodeChatNegative(
  parts: ChatPromptParts,
  negative: string = DEFAULT_NEGATIVE_PROMPT,
  signal?: AbortSignal,
): Promise<TextConditioning> {
  return encodeChatText(parts, chatNegativePrompt(negative), [], signal);
}

async function encodeChatText(
  parts: ChatPromptParts,
  text: string,
  images: readonly RgbImage[],
  signal: AbortSignal | undefined,
): Promise<TextConditioning> {
  const prompt = await chatDecoderPrompt(parts, text, images, signal);
  const out = await parts.model.forward({ embeds: prompt.embeds, positions: prompt.positions });
  const { hiddenSize, imageTokenId } = parts.model.config;
  const kept = dropImagePads(out.lastHidden, prompt.ids, imageTokenId, hiddenSize);
  const length = kept.ids.length;
  return {
    text,
    inputIds: kept.ids,
    hiddenStates: kept.hidden,
    mask: new Uint8Array(length).fill(1),
    length,
    hiddenSize,
  };
}

/**
 * Compacts `[ids.length, hiddenSize]` states to the rows whose id is not `padId`, in order (§2.2: the image-pad
 * positions are removed before the DiT; everything else, vision start/end included, is kept).
 */
export function dropImagePads(
  hidden: Float32Array,
  ids: readonly number[],
  padId: number,
  hiddenSize: number,
): { ids: number[]; hidden: Float32Array } {
  if (hidden.length !== ids.length * hiddenSize)
    throw new RangeError(`${hidden.length} hidden values for ${ids.length} tokens of width ${hiddenSize}`);
  const keptIds: number[] = [];
  const out = new Float32Array((ids.length - ids.filter((id) => id === padId).length) * hiddenSize);
  ids.forEach((id, i) => {
    if (id === padId) return;
    out.set(hidden.subarray(i * hiddenSize, (i + 1) * hiddenSize), keptIds.length * hiddenSize);
    keptIds.push(id);
  });
  return { ids: keptIds, hidden: out };
}
