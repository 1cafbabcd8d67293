import { resolve } from 'node:path';
import { startWorkerEngine } from '../engine/host/worker-engine.ts';
import type { ProviderRequest } from '../engine/onnx/providers.ts';
import type { GenerateJob, GeneratedPng } from '../engine/pipeline/generate-job.ts';
import type { PromptEmbedding } from '../engine/pipeline/generate.ts';
import { SafetensorsFile } from '../engine/weights/safetensors.ts';
import { assertModelUsable } from '../services/models/usable-model.ts';
import {
  generationParams,
  completeRecipe,
  DEFAULT_RECIPE_PARAMS,
  modelIdOf,
  type RecipeParams,
} from '../services/generation/recipe.ts';
import { embedRecipe } from '../services/projects/png-recipe.ts';
import { choiceOption as oneOf, intOption, parseCommandArgs } from './args.ts';
import { CliError, UsageError, type CliCommand, type CliContext } from './command.ts';
import {
  GENERATION_OPTIONS,
  chosenModel,
  inputImages,
  memoryModeOption,
  printProviderChoice,
  providerRequest,
  recipeOptions,
} from './generation-options.ts';
import { writeOutputFile } from './output-file.ts';
import { ProgressBar, stepProgress } from './progress-bar.ts';
import { cliVersion } from './run-cli.ts';

const USAGE = `Usage: atelier generate [--model REPO|DIR] --prompt TEXT [options]

Generates an image from text, edits one image (--image once) or composes several (--image up to 5 times).
Writes a PNG that carries its complete recipe, so the image alone can reproduce itself.

  --model REPO|DIR        an installed model's repo id (e.g. OmniGen2/OmniGen2) or a model folder (transformer/, vae/, and mllm/ + processor/ unless --prompt-embeds);
                          default: the installed OmniGen2, else the only ready model in the models folder
  --prompt TEXT           what to make, or what to change ("make the sky stormy")
  --image FILE            input image (PNG, JPEG, WebP…); repeat for in-context composition, at most 5
  --negative TEXT         negative prompt (default: the official one)
  --width N --height N    output size when not editing one image (default 1024 × 1024)
  --steps N               sampling steps (default 50)
  --text-guidance S       text guidance scale (default 5.0)
  --image-guidance S      image guidance scale (default 2.0)
  --cfg-range A,B         step fractions where guidance applies (default 0,1)
  --scheduler NAME        euler | dpmsolver++ (default euler)
  --seed N                seed of the initial noise (default 0)
  --num-images N          how many images (seeds N, N+1, …; files get -1, -2… suffixes)
  --max-pixels N          pixel budget for inputs and output (default 1048576)
  --max-side N            longest input side (default 1024)
  --provider NAME         execution provider: auto | cpu | cuda | dml | coreml | webgpu (default auto: the
                          best that works here; the choice and why are printed on stderr)
  --memory-mode MODE      all-resident | one-at-a-time | low-memory (default one-at-a-time); see atelier estimate
  --accel NAME            none | teacache | taylorseer: skip or extrapolate transformer layers (default none)
  --out FILE.png          where to write the image (default ./atelier.png)
  --prompt-embeds FILE    use these text embeddings (safetensors: prompt_embeds, prompt_attention_mask,
                          optional negative_prompt_embeds, negative_prompt_attention_mask) instead of the MLLM
  --latents FILE          use these initial latents (safetensors key initial_latents) instead of seeded noise
`;

const OPTIONS = {
  ...GENERATION_OPTIONS,
  'cfg-range': { type: 'string' },
  scheduler: { type: 'string' },
  'num-images': { type: 'string' },
  'max-pixels': { type: 'string' },
  'max-side': { type: 'string' },
  accel: { type: 'string' },
  out: { type: 'string' },
  'prompt-embeds': { type: 'string' },
  latents: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'make an image from text, edit an image, or compose several',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parseCommandArgs('generate', argv, OPTIONS);
    const params = readParams(values);
    const { dir: modelDir, repo, weightCacheDir } = await chosenModel(values.model, ctx);
    await assertModelUsable(modelDir).catch((e: Error) => {
      throw new CliError(e.message);
    });
    const images = inputImages(values.image, ctx);
    const embeds = values['prompt-embeds'] ? readEmbeddings(resolve(ctx.cwd, values['prompt-embeds'])) : null;
    if (!embeds && values.prompt === undefined) throw new UsageError('--prompt is required (or --prompt-embeds)');
    const provider = providerRequest(values.provider, ctx);
    const memoryMode = memoryModeOption(values['memory-mode']);
    const out = resolve(ctx.cwd, values.out ?? 'atelier.png');

    const job: GenerateJob & { provider: ProviderRequest } = {
      modelDir,
      weightCacheDir,
      prompt: embeds?.prompt ?? params.prompt,
      negative: embeds?.negative ?? params.negativePrompt,
      images,
      params: generationParams(params),
      numImages: params.numImages,
      previews: false,
      provider,
      memoryMode,
      ...(values.latents ? { initialLatents: readLatents(resolve(ctx.cwd, values.latents)) } : {}),
    };
    if (embeds && params.textGuidance > 1 && !embeds.negative)
      throw new UsageError('--prompt-embeds has no negative_prompt_embeds, which text guidance > 1 needs');
    const results = await runJob(job, ctx);
    const written: string[] = [];
    for (const [i, r] of results.entries()) {
      const recipe = completeRecipe(params, {
        seed: r.seed,
        inputImages: images,
        modelId: modelIdOf(modelDir, repo ?? undefined),
        precision: r.precision,
        appVersion: cliVersion(),
      });
      const path = results.length === 1 ? out : out.replace(/(\.png)?$/i, `-${i + 1}.png`);
      await writeOutputFile(path, embedRecipe(r.png, recipe));
      written.push(path);
    }
    for (const p of written) ctx.stdout(`${p}\n`);
    return 0;
  },
};

async function runJob(job: GenerateJob & { provider: ProviderRequest }, ctx: CliContext): Promise<GeneratedPng[]> {
  const engine = startWorkerEngine();
  const bar = new ProgressBar(ctx);
  const controller = new AbortController();
  ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
  try {
    await printProviderChoice(engine, job.provider, ctx);
    const result = await engine.run(
      'cli',
      { kind: 'generate', job },
      {
        signal: controller.signal,
        onProgress: (p) => bar.update(stepProgress(p, 'Generating')),
      },
    );
    return result as GeneratedPng[];
  } finally {
    bar.finish();
    await engine.dispose();
  }
}

function readParams(v: Values): RecipeParams {
  const d = DEFAULT_RECIPE_PARAMS;
  const scheduler = v.scheduler ?? d.scheduler;
  if (scheduler !== 'euler' && scheduler !== 'dpmsolver++')
    throw new UsageError(`--scheduler must be euler or dpmsolver++, got "${scheduler}"`);
  return {
    ...recipeOptions(v, v.prompt ?? ''),
    cfgRange: cfgRange(v['cfg-range']) ?? [...d.cfgRange],
    scheduler,
    maxPixels: intOption('max-pixels', v['max-pixels'], d.maxPixels, { min: 256, max: 64 * 1024 * 1024 }),
    maxSideLength: intOption('max-side', v['max-side'], d.maxSideLength, { min: 16, max: 16384 }),
    numImages: intOption('num-images', v['num-images'], d.numImages, { min: 1, max: 8 }),
    acceleration: oneOf('accel', v.accel ?? 'none', ['none', 'teacache', 'taylorseer'] as const),
  };
}

function cfgRange(raw: string | undefined): [number, number] | null {
  if (raw === undefined) return null;
  const parts = raw.split(',').map(Number);
  if (parts.length !== 2 || parts.some((p) => !(p >= 0 && p <= 1)) || parts[0]! > parts[1]!)
    throw new UsageError(`--cfg-range must be two fractions A,B with 0 ≤ A ≤ B ≤ 1, got "${raw}"`);
  return [parts[0]!, parts[1]!];
}

/** The first Σmask tokens of row 0 (the DiT takes the valid prefix, §9.3.13). */
function embedding(file: SafetensorsFile, key: string, maskKey: string): PromptEmbedding | null {
  if (!file.has(key)) return null;
  const info = file.get(key);
  const [, L, F] = info.shape as [number, number, number];
  if (info.shape.length !== 3 || info.shape[0] !== 1)
    throw new CliError(`${file.path}: ${key} must be [1, L, features], got [${info.shape.join(', ')}]`);
  const mask = file.has(maskKey) ? file.readBigInt64(maskKey) : null;
  const length = mask ? mask.reduce((n, m) => n + (m !== 0n ? 1 : 0), 0) : L;
  return { hidden: file.readFloat32(key).slice(0, length * F), length };
}

function readEmbeddings(path: string): { prompt: PromptEmbedding; negative: PromptEmbedding | null } {
  const file = SafetensorsFile.open(path);
  const prompt = embedding(file, 'prompt_embeds', 'prompt_attention_mask');
  if (!prompt) throw new CliError(`${path} has no prompt_embeds tensor`);
  return { prompt, negative: embedding(file, 'negative_prompt_embeds', 'negative_prompt_attention_mask') };
}

function readLatents(path: string): Float32Array {
  const file = SafetensorsFile.open(path);
  if (!file.has('initial_latents')) throw new CliError(`${path} has no initial_latents tensor`);
  return file.readFloat32('initial_latents');
}
