import { randomInt } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeImage } from '../engine/image/decode-image.ts';
import type { SamplingOptions } from '../engine/models/qwen-text.ts';
import { ChatPipeline, DEFAULT_MAX_NEW_TOKENS } from '../engine/pipeline/chat.ts';
import { intOption, numberOption, parseCommandArgs } from './args.ts';
import { CliError, UsageError, type CliCommand } from './command.ts';

const USAGE = `Usage: atelier chat --model DIR [options] "question"

Asks OmniGen2's multimodal model about images (or anything) and streams the answer to stdout.
If the model answers by asking for an image (a reply starting with <|img|>), that token is printed and
a note on stderr points to atelier generate.

  --model DIR               model folder with mllm/ and processor/
  --image FILE              image to ask about (PNG, JPEG, WebP…); repeat for several, called <img1>, <img2>…
  --max-tokens N            longest answer in tokens (default ${DEFAULT_MAX_NEW_TOKENS})
  --temperature T           0 = greedy; > 0 samples (default: the model's generation_config.json, else greedy)
  --top-p P                 nucleus sampling mass in (0, 1] (default: the model's, else 1)
  --top-k K                 keep the K most likely tokens, 0 = off (default: the model's, else off)
  --repetition-penalty R    > 1 discourages repeating tokens (default: the model's, else 1)
  --seed S                  seed of sampled decoding (default: random, printed on stderr)
`;

const OPTIONS = {
  model: { type: 'string' }, image: { type: 'string', multiple: true }, 'max-tokens': { type: 'string' },
  temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'top-k': { type: 'string' },
  'repetition-penalty': { type: 'string' }, seed: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** Sampling flags the user gave; unset ones keep the checkpoint's defaults. */
function samplingOverrides(values: Values): Partial<SamplingOptions> {
  const out: { -readonly [K in keyof SamplingOptions]?: SamplingOptions[K] } = {};
  if (values.temperature !== undefined) out.temperature = numberOption('temperature', values.temperature, 0, { min: 0, max: 100 });
  if (values['top-p'] !== undefined) out.topP = numberOption('top-p', values['top-p'], 1, { min: Number.MIN_VALUE, max: 1 });
  if (values['top-k'] !== undefined) out.topK = intOption('top-k', values['top-k'], 0, { min: 0, max: 1_000_000 });
  if (values['repetition-penalty'] !== undefined) out.repetitionPenalty = numberOption('repetition-penalty', values['repetition-penalty'], 1, { min: Number.MIN_VALUE, max: 100 });
  return out;
}

/** A model folder chat can use: it must hold the MLLM and its tokenizer. */
function checkModelFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`no model folder at ${dir}`);
  for (const sub of ['mllm', 'processor']) {
    if (!existsSync(join(dir, sub))) throw new CliError(`the model folder ${dir} has no ${sub}/ folder; chat needs the multimodal model (mllm/) and its tokenizer (processor/)`);
  }
}

export const chatCommand: CliCommand = {
  name: 'chat',
  summary: 'ask the multimodal model about images, answer streamed to stdout',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('chat', argv, OPTIONS, true);
    if (values.model === undefined) throw new UsageError('--model DIR is required');
    if (positionals.length !== 1 || positionals[0]!.trim() === '') throw new UsageError('give exactly one question, in quotes: atelier chat --model DIR "What is in this picture?"');
    const maxNewTokens = intOption('max-tokens', values['max-tokens'], DEFAULT_MAX_NEW_TOKENS, { min: 1, max: 32_768 });
    const sampling = samplingOverrides(values);
    const seed = values.seed !== undefined ? intOption('seed', values.seed, 0, { min: 0, max: Number.MAX_SAFE_INTEGER }) : randomInt(2 ** 47);
    const modelDir = resolve(ctx.cwd, values.model);
    checkModelFolder(modelDir);
    const images = await Promise.all((values.image ?? []).map((f) => decodeImage(resolve(ctx.cwd, f))));

    const chat = await ChatPipeline.load(modelDir);
    try {
      const sampled = (sampling.temperature ?? chat.defaultSampling.temperature) > 0;
      if (sampled && values.seed === undefined) ctx.stderr(`seed: ${seed}\n`);
      const result = await chat.chat({
        turns: [{ role: 'user', text: positionals[0]! }], images, maxNewTokens, sampling, seed, signal: ctx.signal, onText: (piece) => ctx.stdout(piece),
      });
      if (result.wantsImage) {
        ctx.stdout(result.text);
        ctx.stderr('the model asks to generate an image; run atelier generate with this prompt to make it\n');
      }
      ctx.stdout('\n');
      return 0;
    } finally {
      await chat.release();
    }
  },
};
