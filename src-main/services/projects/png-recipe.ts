// Atelier PNGs carry the recipe that made them in two iTXt chunks: "atelier-recipe" (JSON, versioned, read back
// by Atelier) and "parameters" (plain text in the layout AUTOMATIC1111 made common, which image viewers and
// other generators display).
import type { Recipe } from '../../ipc/contract.ts';
import { ImageError } from '../../engine/image/image-error.ts';
import { addTextChunks, readTextChunks } from '../../engine/image/png-text.ts';
import { ProjectError } from './project-errors.ts';
import { recipeCheck } from './project-schema.ts';
import { SchemaError } from './schema-checks.ts';

export const RECIPE_KEY = 'atelier-recipe';
export const PARAMETERS_KEY = 'parameters';
export const RECIPE_VERSION = 2;

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= PNG_SIGNATURE.length && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function requirePng(bytes: Uint8Array, what: string): void {
  if (!isPng(bytes)) throw new ProjectError('unsupported', 'not-png', `${what} is not a PNG image`);
}

/** A damaged chunk stream is the file's fault, not ours: 'corrupt-file', not 'internal'. */
function pngChunks<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof ImageError && e.code === 'bad-png')
      throw new ProjectError('corrupt-file', 'bad-png', e.message, {}, { cause: e });
    throw e;
  }
}

export function embedRecipe(png: Uint8Array, recipe: Recipe): Uint8Array {
  requirePng(png, 'the image');
  const out = pngChunks(() =>
    addTextChunks(png, {
      [RECIPE_KEY]: JSON.stringify({ version: RECIPE_VERSION, recipe }), // JSON escapes NUL, which PNG text forbids
      [PARAMETERS_KEY]: formatParameters(recipe),
    }),
  );
  // A plain Uint8Array, not a Buffer: it crosses IPC, where only typed arrays keep their type.
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The recipe an Atelier PNG carries; 'not-found' (reason 'no-recipe') for any other PNG. */
export function readRecipe(png: Uint8Array): Recipe {
  requirePng(png, 'the file');
  const raw = pngChunks(() => readTextChunks(png))[RECIPE_KEY];
  if (raw === undefined)
    throw new ProjectError(
      'not-found',
      'no-recipe',
      'this PNG carries no Atelier recipe (it was not made by Atelier, or its text was stripped)',
    );
  const bad = (why: string) =>
    new ProjectError('corrupt-file', 'bad-recipe', `the recipe in this PNG is damaged: ${why}`);
  let wrapper: unknown;
  try {
    wrapper = JSON.parse(raw);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const { version, recipe } = (typeof wrapper === 'object' && wrapper !== null ? wrapper : {}) as {
    version?: unknown;
    recipe?: unknown;
  };
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw bad('it has no valid version');
  if (version > RECIPE_VERSION) {
    throw new ProjectError(
      'from-future',
      'newer-format',
      `this PNG's recipe was written by a newer Atelier (recipe format ${version}); this version reads format ${RECIPE_VERSION}`,
      { fileVersion: version, supportedVersion: RECIPE_VERSION },
    );
  }
  try {
    return recipeCheck(recipe, 'recipe');
  } catch (e) {
    if (e instanceof SchemaError) throw bad(e.message);
    throw e;
  }
}

/** "prompt\nNegative prompt: …\nSteps: 50, Sampler: euler, …", the de facto `parameters` layout. */
export function formatParameters(r: Recipe): string {
  const fields: [string, string | number][] = [
    ['Steps', r.steps],
    ['Sampler', r.scheduler],
    ['CFG scale', r.textGuidance],
    ['Image CFG scale', r.imageGuidance],
    ['CFG range', `${r.cfgRange[0]}-${r.cfgRange[1]}`],
    ['Seed', r.seed],
    ['Size', `${r.width}x${r.height}`],
    ['Model', r.modelId],
    ['Precision', r.precision],
    ...(r.acceleration === 'none' ? [] : [['Acceleration', r.acceleration] as [string, string]]),
    ...(r.inputImages.length === 0 ? [] : [['Input images', r.inputImages.length] as [string, number]]),
    ['Version', `Atelier ${r.appVersion}`],
  ];
  const lines = [r.prompt];
  if (r.negativePrompt !== '') lines.push(`Negative prompt: ${r.negativePrompt}`);
  lines.push(fields.map(([k, v]) => `${k}: ${String(v).replaceAll(',', ' ')}`).join(', '));
  return lines.join('\n').replaceAll('\0', ''); // PNG text may not contain NUL
}
