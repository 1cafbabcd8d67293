import { t } from '../i18n/i18n.svelte.ts';
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
  /** In the UI language. */
  readonly label: string;
  /** Square brackets mark the parts to replace; the prompt box selects the first one after inserting. */
  text: string;
}

/**
 * Phrasings that work with OmniGen2, after the official usage tips: name the images ("image 1", "the second
 * image"), say what changes and what stays, describe the target picture in detail, in English.
 */
export const PROMPT_PATTERNS: Record<Mode, readonly PromptPattern[]> = {
  'text-to-image': [
    {
      get label() {
        return t('pattern.detailedScene');
      },
      text: 'A [subject] [doing something] in [place], [time of day and light], [style, e.g. photograph or watercolour], [details that matter].',
    },
    {
      get label() {
        return t('pattern.productShot');
      },
      text: 'A studio photograph of [product] on [surface], soft light, [background colour] background, sharp focus.',
    },
  ],
  edit: [
    {
      get label() {
        return t('pattern.changeSomething');
      },
      text: 'Change the [object] in image 1 to [new look]. Keep everything else the same.',
    },
    {
      get label() {
        return t('pattern.replaceTheBackground');
      },
      text: 'Replace the background of image 1 with [new scene]. Keep the subject unchanged.',
    },
    {
      get label() {
        return t('pattern.addSomething');
      },
      text: 'Add [object] to [where] in image 1.',
    },
    {
      get label() {
        return t('pattern.removeSomething');
      },
      text: 'Remove the [object] from image 1.',
    },
    {
      get label() {
        return t('pattern.changeTheStyle');
      },
      text: 'Turn image 1 into [style, e.g. an oil painting].',
    },
  ],
  compose: [
    {
      get label() {
        return t('pattern.addFromAnotherImage');
      },
      text: 'Edit the first image: add the [object] from the second image. [Describe the final picture in detail.]',
    },
    {
      get label() {
        return t('pattern.replaceWithAnotherImage');
      },
      text: 'Edit the first image: replace the [object] with the [object] from the second image. [Describe the final picture in detail.]',
    },
    {
      get label() {
        return t('pattern.bringSubjectsTogether');
      },
      text: 'The [person] from image 1 and the [person or object] from image 2 [doing something] in [place]. [More details.]',
    },
    {
      get label() {
        return t('pattern.keepAPersonConsistent');
      },
      text: 'The [person] from image 1 [doing something] in [place], keeping their facial features, hairstyle and other attributes.',
    },
  ],
};

/** Short reminders shown next to the patterns, in the UI language (the pattern texts stay English: they go to the model). */
export const promptTip = (mode: Mode): string => t(`prompt.tip.${mode}`);
