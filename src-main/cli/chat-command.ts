import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../engine/host/engine-client.ts';
import { CancelledError } from '../engine/cancellation.ts';
import { startWorkerEngine } from '../engine/host/worker-engine.ts';
import type { SamplingOptions } from '../engine/models/qwen-text.ts';
import { DEFAULT_MAX_NEW_TOKENS } from '../engine/pipeline/chat.ts';
import type { ChatJob, ChatOutcome } from '../engine/pipeline/chat-job.ts';
import type { GenerateJob, GeneratedPng } from '../engine/pipeline/generate-job.ts';
import type { ChatTurn } from '../engine/text/prompts.ts';
import { completeRecipe, generationParams, modelIdOf } from '../services/generation/recipe.ts';
import { embedRecipe } from '../services/projects/png-recipe.ts';
import { intOption, numberOption, parseCommandArgs } from './args.ts';
import { CliError, UsageError, type CliCommand, type CliContext } from './command.ts';
import { PROVIDER_PREFERENCES, type ProviderRequest } from '../engine/onnx/providers.ts';
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
import { SPECIAL_TOKENS } from '../engine/text/special-tokens.ts';

const IMG_TOKEN = SPECIAL_TOKENS.img;

const USAGE = `Usage: atelier chat [--model REPO|DIR] [options] ["message"]

Talks with OmniGen2's multimodal model about images (or anything) and streams each answer to stdout.
One message as the argument, or a conversation with --input: one user message per line, each answered in
turn with the earlier turns and the images in context. When the model answers a message with a picture
(<|img|>), or with --draw for the last message, the picture is made from the conversation (chat-mode
conditioning) and written as a PNG that carries its recipe.

  --model REPO|DIR          an installed model's repo id (e.g. OmniGen2/OmniGen2) or a model folder with mllm/ and
                            processor/ (and transformer/, vae/ for pictures); default: the installed OmniGen2, else
                            the only ready model in the models folder
  --image FILE              image to talk about (PNG, JPEG, WebP…); repeat for several, "image 1" … "image 5"
  --input FILE              the messages, one per line; - reads them from stdin
  --draw                    answer the last message with a picture
  --out FILE.png            where a picture goes (default ./atelier-chat.png; several get -2, -3… suffixes)
  --max-tokens N            longest answer in tokens (default ${DEFAULT_MAX_NEW_TOKENS})
  --temperature T           0 = greedy; > 0 samples (default: the model's generation_config.json, else greedy)
  --top-p P                 nucleus sampling mass in (0, 1] (default: the model's, else 1)
  --top-k K                 keep the K most likely tokens, 0 = off (default: the model's, else off)
  --repetition-penalty R    > 1 discourages repeating tokens (default: the model's, else 1)
  --seed S                  seed of sampled answers and of the picture (default: random, printed on stderr)
  --steps N --width N --height N --negative TEXT --text-guidance S --image-guidance S
                            the picture's settings, as for atelier generate
  --provider NAME           execution provider: ${PROVIDER_PREFERENCES.join(' | ')} (default auto; the choice is
                            printed on stderr)
  --memory-mode MODE        all-resident | one-at-a-time | low-memory (default one-at-a-time)
`;

const OPTIONS = {
  ...GENERATION_OPTIONS,
  input: { type: 'string' },
  draw: { type: 'boolean' },
  out: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  'repetition-penalty': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** Sampling flags the user gave; unset ones keep the checkpoint's defaults. */
function samplingOverrides(values: Values): Partial<SamplingOptions> {
  const out: { -readonly [K in keyof SamplingOptions]?: SamplingOptions[K] } = {};
  if (values.temperature !== undefined)
    out.temperature = numberOption('temperature', values.temperature, 0, { min: 0, max: 100 });
  if (values['top-p'] !== undefined)
    out.topP = numberOption('top-p', values['top-p'], 1, { min: Number.MIN_VALUE, max: 1 });
  if (values['top-k'] !== undefined) out.topK = intOption('top-k', values['top-k'], 0, { min: 0, max: 1_000_000 });
  if (values['repetition-penalty'] !== undefined)
    out.repetitionPenalty = numberOption('repetition-penalty', values['repetition-penalty'], 1, {
      min: Number.MIN_VALUE,
      max: 100,
    });
  return out;
}

/** A model folder chat can use: it must hold the MLLM and its tokenizer. */
function checkModelFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`no model folder at ${dir}`);
  for (const sub of ['mllm', 'processor']) {
    if (!existsSync(join(dir, sub)))
      throw new CliError(
        `the model folder ${dir} has no ${sub}/ folder; chat needs the multimodal model (mllm/) and its tokenizer (processor/)`,
      );
  }
}

/** The user's messages: the argument, or the lines of --input (a file, or stdin for -), blank lines skipped. */
async function readMessages(values: Values, positionals: string[], ctx: CliContext): Promise<string[]> {
  if (values.input !== undefined && positionals.length > 0)
    throw new UsageError('give the message as an argument or the conversation with --input, not both');
  if (values.input === undefined) {
    if (positionals.length !== 1 || positionals[0]!.trim() === '')
      throw new UsageError(
        'give exactly one message, in quotes: atelier chat "What is in this picture?" (or --input FILE)',
      );
    return [positionals[0]!];
  }
  let text: string;
  if (values.input === '-') text = await (ctx.stdin ?? readProcessStdin)();
  else {
    const path = resolve(ctx.cwd, values.input);
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
    }
  }
  const messages = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (messages.length === 0)
    throw new UsageError(`${values.input === '-' ? 'stdin' : values.input} holds no message (one per line)`);
  return messages;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const chatCommand: CliCommand = {
  name: 'chat',
  summary: 'talk with the multimodal model about images; answers streamed, pictures drawn from the conversation',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('chat', argv, OPTIONS, true);
    if (values.prompt !== undefined)
      throw new UsageError('chat takes its message as an argument or with --input, not --prompt');
    const maxNewTokens = intOption('max-tokens', values['max-tokens'], DEFAULT_MAX_NEW_TOKENS, { min: 1, max: 32_768 });
    const sampling = samplingOverrides(values);
    const seed =
      values.seed !== undefined ? intOption('seed', values.seed, 0, { min: 0, max: 2 ** 32 - 1 }) : randomInt(2 ** 32);
    const recipe = recipeOptions({ ...values, seed: String(seed) }, '');
    const memoryMode = memoryModeOption(values['memory-mode']);
    const provider = providerRequest(values.provider, ctx);
    const { dir: modelDir, repo, weightCacheDir } = await chosenModel(values.model, ctx);
    checkModelFolder(modelDir);
    const images = inputImages(values.image, ctx);
    const messages = await readMessages(values, positionals, ctx);
    // A random seed matters to sampled answers and to pictures: it is printed then, so the run can be repeated.
    let seedShown = values.seed !== undefined;
    const showSeed = () => {
      if (!seedShown) ctx.stderr(`seed: ${seed}\n`);
      seedShown = true;
    };
    if ((sampling.temperature ?? 0) > 0) showSeed();

    const engine = startWorkerEngine();
    const session = new ChatSession(engine, ctx, ctx.signal, {
      modelDir,
      repo,
      weightCacheDir,
      images,
      memoryMode,
      provider,
      out: resolve(ctx.cwd, values.out ?? 'atelier-chat.png'),
    });
    try {
      await printProviderChoice(engine, provider, ctx);
      for (const [i, message] of messages.entries()) {
        if (ctx.signal.aborted) throw new CancelledError('the conversation');
        if (messages.length > 1) ctx.stdout(`> ${message}\n`);
        session.turns.push({ role: 'user', text: message });
        if (values.draw && i === messages.length - 1) {
          showSeed();
          await session.draw(recipe);
          continue;
        }
        const answer = await session.answer({ maxNewTokens, sampling, seed });
        if (answer.wantsImage) {
          ctx.stderr('the model answers with a picture; drawing it\n');
          showSeed();
          await session.draw(recipe);
        }
      }
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};

/** One conversation through the engine host: the same chat task and chat-mode generation as the app. */
class ChatSession {
  readonly turns: ChatTurn[] = [];
  private jobs = 0;
  private pictures = 0;

  constructor(
    private readonly engine: Engine,
    private readonly ctx: CliContext,
    private readonly signal: AbortSignal,
    private readonly o: {
      modelDir: string;
      repo: string | null;
      weightCacheDir: string;
      images: Uint8Array[];
      memoryMode: ChatJob['memoryMode'];
      provider: ProviderRequest;
      out: string;
    },
  ) {}

  /** Streams the answer to stdout and keeps it in the conversation. */
  async answer(options: Pick<ChatJob, 'maxNewTokens' | 'sampling' | 'seed'>): Promise<ChatOutcome> {
    const job: ChatJob = {
      modelDir: this.o.modelDir,
      weightCacheDir: this.o.weightCacheDir,
      turns: [...this.turns],
      images: this.o.images,
      memoryMode: this.o.memoryMode,
      provider: this.o.provider,
      ...options,
    };
    const outcome = (await this.engine.run(
      `chat-${++this.jobs}`,
      { kind: 'chat', job },
      {
        signal: this.signal,
        onProgress: (p) => {
          if (p.report?.kind === 'chat') this.ctx.stdout(p.report.piece);
        },
      },
    )) as ChatOutcome;
    if (outcome.wantsImage) this.ctx.stdout(outcome.text);
    this.ctx.stdout('\n');
    this.turns.push({ role: 'assistant', text: outcome.text });
    return outcome;
  }

  /** The last message answered with a picture: chat-mode conditioning on the conversation before it (§2.2, §7.1). */
  async draw(recipe: ReturnType<typeof recipeOptions>): Promise<void> {
    const request = this.turns.findLast((t) => t.role === 'user')!;
    const history = this.turns.slice(0, this.turns.lastIndexOf(request));
    const params = { ...recipe, prompt: request.text, chat: { history } };
    const job: GenerateJob = {
      modelDir: this.o.modelDir,
      weightCacheDir: this.o.weightCacheDir,
      prompt: request.text,
      negative: recipe.negativePrompt,
      images: this.o.images,
      params: generationParams(params),
      numImages: 1,
      previews: false,
      memoryMode: this.o.memoryMode,
      provider: this.o.provider,
      chat: { history },
    };
    const bar = new ProgressBar(this.ctx);
    let result: GeneratedPng[];
    try {
      result = (await this.engine.run(
        `draw-${++this.jobs}`,
        { kind: 'generate', job },
        {
          signal: this.signal,
          onProgress: (p) => bar.update(stepProgress(p, 'Drawing')),
        },
      )) as GeneratedPng[];
    } finally {
      bar.finish();
    }
    const png = result[0]!;
    const full = completeRecipe(params, {
      seed: png.seed,
      inputImages: this.o.images,
      modelId: modelIdOf(this.o.modelDir, this.o.repo ?? undefined),
      precision: png.precision,
      appVersion: cliVersion(),
    });
    const path = ++this.pictures === 1 ? this.o.out : this.o.out.replace(/(\.png)?$/i, `-${this.pictures}.png`);
    await writeOutputFile(path, embedRecipe(png.png, full));
    this.ctx.stdout(`${IMG_TOKEN} ${path}\n`);
    this.turns.push({ role: 'assistant', text: IMG_TOKEN });
  }
}
