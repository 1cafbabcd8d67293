import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../engine/host/engine-client.ts';
import {
  PROVIDER_CACHE_FILE,
  PROVIDER_PREFERENCES,
  selectionSummary,
  type ProviderRequest,
  type ProviderSelection,
} from '../engine/onnx/providers.ts';
import { MEMORY_MODES, type MemoryMode } from '../engine/pipeline/memory-mode.ts';
import { OFFICIAL_NEGATIVE_PROMPT } from '../engine/text/prompts.ts';
import { DEFAULT_RECIPE_PARAMS, type RecipeParams } from '../services/generation/recipe.ts';
import { findModel, type FoundModel } from '../services/models/find-model.ts';
import { ModelError } from '../services/models/model-error.ts';
import { weightCacheDirFor } from '../services/models/weight-cache-dir.ts';
import { userDataDir } from '../services/paths.ts';
import { choiceOption, intOption, numberOption } from './args.ts';
import { CliError, UsageError, type CliContext } from './command.ts';
import { cliCacheDir, cliModelsDir } from './models-dir.ts';
import { cliVersion } from './run-cli.ts';

/*
 * Options that generate and reflect (and, for the model folder and memory mode, estimate) read the same way,
 * so the flags take the same values, defaults and error messages in every command.
 */

/** parseCommandArgs specs of the flags generate and reflect share; spread into each command's OPTIONS. */
export const GENERATION_OPTIONS = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  image: { type: 'string', multiple: true },
  negative: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  'text-guidance': { type: 'string' },
  'image-guidance': { type: 'string' },
  provider: { type: 'string' },
  'memory-mode': { type: 'string' },
} as const;

/** The parsed values of GENERATION_OPTIONS (a command's own flags ride along unread). */
type GenerationValues = { readonly [K in Exclude<keyof typeof GENERATION_OPTIONS, 'image'>]?: string };

/**
 * The model `--model` names (an installed model's repo id, or a folder), or the one the app would run when it is
 * absent (see findModel); its folder exists (what it must hold is each command's check). With it, where its
 * converted weights go: never into a folder Atelier does not manage (weight-cache-dir.ts).
 */
export async function chosenModel(
  raw: string | undefined,
  ctx: CliContext,
): Promise<FoundModel & { weightCacheDir: string }> {
  try {
    const modelsDir = cliModelsDir(ctx);
    const found = await findModel(raw, { modelsDir, cwd: ctx.cwd });
    return { ...found, weightCacheDir: await weightCacheDirFor(found.dir, { modelsDir, cacheDir: cliCacheDir(ctx) }) };
  } catch (e) {
    if (e instanceof ModelError) throw new CliError(e.message);
    throw e;
  }
}

/**
 * A recipe of the defaults with the flags both commands take applied; generate overrides the sampler fields
 * only it has. Spreading the defaults first keeps their key order, which the recipe embedded in a PNG follows.
 */
export function recipeOptions(v: GenerationValues, prompt: string): RecipeParams {
  const d = DEFAULT_RECIPE_PARAMS;
  return {
    ...d,
    prompt,
    negativePrompt: v.negative ?? OFFICIAL_NEGATIVE_PROMPT,
    seed: intOption('seed', v.seed, d.seed, { min: 0, max: 2 ** 32 - 1 }),
    steps: intOption('steps', v.steps, d.steps, { min: 1, max: 500 }),
    textGuidance: numberOption('text-guidance', v['text-guidance'], d.textGuidance, { min: 0, max: 30 }),
    imageGuidance: numberOption('image-guidance', v['image-guidance'], d.imageGuidance, { min: 0, max: 30 }),
    width: intOption('width', v.width, d.width, { min: 16, max: 8192 }),
    height: intOption('height', v.height, d.height, { min: 16, max: 8192 }),
    cfgRange: [d.cfgRange[0], d.cfgRange[1]],
  };
}

/** The bytes of each --image file (decoding is the engine's job); OmniGen2 takes at most 5. */
export function inputImages(files: readonly string[] | undefined, ctx: CliContext): Uint8Array[] {
  const images = (files ?? []).map((f) => readInput(resolve(ctx.cwd, f)));
  if (images.length > 5) throw new UsageError('OmniGen2 takes at most 5 input images (--image)');
  return images;
}

function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(
      `cannot read input image ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/** --provider as a request; the choice is cached in the same user-data file the desktop app uses. */
export function providerRequest(raw: string | undefined, ctx: CliContext): ProviderRequest {
  const preference = choiceOption('provider', raw ?? 'auto', PROVIDER_PREFERENCES);
  return { preference, cacheFile: join(userDataDir(ctx.env), PROVIDER_CACHE_FILE), appVersion: cliVersion() };
}

export function memoryModeOption(raw: string | undefined): MemoryMode {
  return choiceOption('memory-mode', raw ?? 'one-at-a-time', MEMORY_MODES);
}

/** Asks the engine host which provider `request` gets and prints it; the job that follows makes the same choice (the host keeps it), so a slow CPU run explains itself up front. */
export async function printProviderChoice(engine: Engine, request: ProviderRequest, ctx: CliContext): Promise<void> {
  const selection = (await engine.run('cli-providers', { kind: 'providers', request })) as ProviderSelection;
  ctx.stderr(`${selectionSummary(selection)}\n`);
}
