import { isAbsolute, join } from 'node:path';
import type { GenerateRequest, GeneratedImage } from '../../ipc/contract.ts';
import type { GenerateJob, GeneratedPng } from '../../engine/pipeline/generate-job.ts';
import { embedRecipe } from '../projects/png-recipe.ts';
import { completeRecipe, generationParams, modelIdOf } from './recipe.ts';

/** The model folder a request names: an absolute folder, or a folder inside the models directory. */
export function modelFolder(model: string, modelsDir: string): string {
  return isAbsolute(model) ? model : join(modelsDir, model);
}

/**
 * A renderer request as the engine host's job (the same parameters, the images as the bytes given), run where
 * `runtime` says (the provider and memory mode from settings).
 */
export function toGenerateJob(
  req: GenerateRequest,
  modelsDir: string,
  runtime: Pick<GenerateJob, 'provider' | 'memoryMode' | 'weightCacheDir'> = {},
): GenerateJob {
  const { recipe } = req;
  return {
    modelDir: modelFolder(req.model, modelsDir),
    prompt: recipe.prompt,
    negative: recipe.negativePrompt,
    images: req.images,
    params: generationParams(recipe),
    numImages: recipe.numImages,
    previews: true,
    ...(recipe.chat ? { chat: { history: recipe.chat.history } } : {}),
    ...runtime,
  };
}

/** The engine's PNGs with each image's complete recipe embedded, ready for the renderer and for export. */
export function toGeneratedImages(
  req: GenerateRequest,
  pngs: readonly GeneratedPng[],
  appVersion: string,
): GeneratedImage[] {
  return pngs.map((p) => {
    const recipe = completeRecipe(req.recipe, {
      seed: p.seed,
      inputImages: req.images,
      modelId: modelIdOf(req.model),
      precision: p.precision,
      appVersion,
    });
    return { png: embedRecipe(p.png, recipe), width: p.width, height: p.height, recipe };
  });
}
