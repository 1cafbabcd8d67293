import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Recipe } from '../../ipc/contract.ts';
import type { GenerationParams } from '../../engine/pipeline/generate.ts';

/** The parameters a person chooses; the rest of a Recipe is filled in from the run. */
export type RecipeParams = Omit<Recipe, 'inputImages' | 'modelId' | 'precision' | 'appVersion'>;

export const DEFAULT_RECIPE_PARAMS: Readonly<RecipeParams> = Object.freeze({
  // model-notes.md §5.10, the values of the official inference script.
  prompt: '',
  negativePrompt: '',
  seed: 0,
  steps: 50,
  textGuidance: 5,
  imageGuidance: 2,
  cfgRange: [0, 1] as [number, number],
  scheduler: 'euler' as const,
  width: 1024,
  height: 1024,
  maxPixels: 1024 * 1024,
  maxSideLength: 1024,
  numImages: 1,
  acceleration: 'none' as const,
});

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A model's id as recipes name it: its hub repository when known, else its folder name. */
export function modelIdOf(modelDir: string, repoId?: string): string {
  return repoId ?? basename(modelDir);
}

/** The full recipe of one generated image (its own seed; everything needed to make it again). */
export function completeRecipe(
  params: RecipeParams,
  run: { seed: number; inputImages: readonly Uint8Array[]; modelId: string; precision: string; appVersion: string },
): Recipe {
  return {
    ...params,
    cfgRange: [params.cfgRange[0], params.cfgRange[1]],
    seed: run.seed,
    numImages: 1,
    inputImages: run.inputImages.map(sha256Hex),
    modelId: run.modelId,
    precision: run.precision,
    appVersion: run.appVersion,
  };
}

/** The sampler's parameters of a recipe (the acceleration by name becomes the DiT's cache policy, §6). */
export function generationParams(r: RecipeParams): GenerationParams {
  return {
    steps: r.steps,
    textGuidance: r.textGuidance,
    imageGuidance: r.imageGuidance,
    cfgRange: [r.cfgRange[0], r.cfgRange[1]],
    scheduler: r.scheduler,
    width: r.width,
    height: r.height,
    maxPixels: r.maxPixels,
    maxSideLength: r.maxSideLength,
    seed: r.seed,
    ...(r.acceleration === 'none' ? {} : { acceleration: { kind: r.acceleration } }),
  };
}
