/**
 * The special tokens OmniGen2 relies on (model-notes.md §1.6), by their text. Their ids differ between
 * checkpoints (the golden tiny model puts them near 1000, the real one near 151643), so ids are always resolved
 * through the loaded tokenizer, never written down here.
 */
export const SPECIAL_TOKENS = {
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  visionStart: '<|vision_start|>',
  visionEnd: '<|vision_end|>',
  imagePad: '<|image_pad|>',
  endOfText: '<|endoftext|>',
  /** OmniGen2's own token: a chat reply starting with it asks for an image (§7.1). */
  img: '<|img|>',
} as const;

export type SpecialToken = (typeof SPECIAL_TOKENS)[keyof typeof SPECIAL_TOKENS];
