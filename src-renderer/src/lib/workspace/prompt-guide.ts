import type { Mode } from './parameters.ts';

export const MAX_INPUTS = 5;

/** The label the prompt uses for the input at `index` (0-based); the model only knows images by these words. */
export const inputLabel = (index: number): string => `image ${index + 1}`;

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth'];
const NUMBERED = /\b(?:image|img|picture|photo)\s*#?\s*(\d+)\b/gi;
const ORDINAL = /\b(first|second|third|fourth|fifth)\s+(?:image|picture|photo)\b/gi;

/** The image numbers (1-based, ascending) a prompt refers to: "image 2", "img2", "the second image". */
export function referencedImages(prompt: string): number[] {
  const found = new Set<number>();
  for (const m of prompt.matchAll(NUMBERED)) found.add(Number(m[1]));
  for (const m of prompt.matchAll(ORDINAL)) found.add(ORDINALS.indexOf(m[1]!.toLowerCase()) + 1);
  return [...found].filter((n) => n >= 1).sort((a, b) => a - b);
}

export interface PromptPattern {
  label: string;
  /** Square brackets mark the parts to replace; the prompt box selects the first one after inserting. */
  text: string;
}

/**
 * Phrasings that work with OmniGen2, after the official usage tips: name the images ("image 1", "the second
 * image"), say what changes and what stays, describe the target picture in detail, in English.
 */
export const PROMPT_PATTERNS: Record<Mode, readonly PromptPattern[]> = {
  'text-to-image': [
    { label: 'Detailed scene', text: 'A [subject] [doing something] in [place], [time of day and light], [style, e.g. photograph or watercolour], [details that matter].' },
    { label: 'Product shot', text: 'A studio photograph of [product] on [surface], soft light, [background colour] background, sharp focus.' },
  ],
  edit: [
    { label: 'Change something', text: 'Change the [object] in image 1 to [new look]. Keep everything else the same.' },
    { label: 'Replace the background', text: 'Replace the background of image 1 with [new scene]. Keep the subject unchanged.' },
    { label: 'Add something', text: 'Add [object] to [where] in image 1.' },
    { label: 'Remove something', text: 'Remove the [object] from image 1.' },
    { label: 'Change the style', text: 'Turn image 1 into [style, e.g. an oil painting].' },
  ],
  compose: [
    { label: 'Add from another image', text: 'Edit the first image: add the [object] from the second image. [Describe the final picture in detail.]' },
    { label: 'Replace with another image', text: 'Edit the first image: replace the [object] with the [object] from the second image. [Describe the final picture in detail.]' },
    { label: 'Bring subjects together', text: 'The [person] from image 1 and the [person or object] from image 2 [doing something] in [place]. [More details.]' },
    { label: 'Keep a person consistent', text: 'The [person] from image 1 [doing something] in [place], keeping their facial features, hairstyle and other attributes.' },
  ],
};

/** Short reminders shown next to the patterns. */
export const PROMPT_TIPS: Record<Mode, string> = {
  'text-to-image': 'Longer, specific descriptions work better than short ones. English prompts work best.',
  edit: 'Say what to change and what to keep. Input images of at least 512 × 512 give the best results.',
  compose: 'Name each image ("the bird from image 1", "the desk in image 2") and describe the final picture in detail.',
};
