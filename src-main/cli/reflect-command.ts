import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ReflectionRound } from '../ipc/contract.ts';
import { startWorkerEngine } from '../engine/host/worker-engine.ts';
import { PROVIDER_PREFERENCES } from '../engine/onnx/providers.ts';
import { MEMORY_MODES } from '../engine/pipeline/memory-mode.ts';
import {
  CHECK_TAGS,
  DEFAULT_MAX_REVISIONS,
  DEFAULT_THRESHOLD,
  MAX_REVISIONS,
  type CheckSpec,
  type CheckTag,
  type ForcedMode,
  type ReflectJob,
  type ReflectionEvent,
  type ReflectionOutcome,
} from '../engine/pipeline/reflection.ts';
import { generationParams, modelIdOf } from '../services/generation/recipe.ts';
import { withTaskReports } from '../services/generation/reflection-jobs.ts';
import { ReflectionRecorder } from '../services/generation/reflection-records.ts';
import { intOption, numberOption, parseCommandArgs } from './args.ts';
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

const USAGE = `Usage: atelier reflect [--model REPO|DIR] --prompt TEXT --out-dir DIR [options]

Makes an image, lets the model check it against the prompt with yes/no questions, and fixes what fails by
editing the image or regenerating it, round after round; the best-scoring round is the result.
Writes every round's PNG (recipe embedded) and rounds.json, the record of the rounds, to --out-dir.

  --model REPO|DIR        an installed model's repo id (e.g. OmniGen2/OmniGen2) or a model folder (transformer/, vae/, mllm/, processor/);
                          default: the installed OmniGen2, else the only ready model in the models folder
  --prompt TEXT           what to make (or, with --image, what to change); every check comes from it
  --image FILE            input image (PNG, JPEG, WebP…); repeat for several, at most 5
  --max-rounds N          revisions after the first image, 0–${MAX_REVISIONS} (default ${DEFAULT_MAX_REVISIONS})
  --threshold T           p(yes) a check needs to pass, 0–1 (default ${DEFAULT_THRESHOLD}; 0.65 is strict)
  --check "TAG | Q?"      use these checks instead of deriving them (repeat; TAG: ${CHECK_TAGS.join(', ')})
  --force MODES           mode per revision, comma-separated: auto, edit or regenerate (e.g. edit,regenerate)
  --seed N                seed of the first image; round k uses seed + k (default 0)
  --steps N               sampling steps per image (default 50)
  --width N --height N    image size when not editing (default 1024 × 1024)
  --text-guidance S       text guidance scale (default 5.0)
  --image-guidance S      image guidance of the first image (default 2.0; edit rounds use 1.5)
  --negative TEXT         negative prompt (default: the official one)
  --provider NAME         execution provider: ${PROVIDER_PREFERENCES.join(' | ')} (default auto)
  --memory-mode MODE      ${MEMORY_MODES.join(' | ')} (default one-at-a-time: the DiT and the MLLM
                          take turns in memory, reloaded each round)
  --out-dir DIR           where the round PNGs and rounds.json go (created if missing)
`;

const OPTIONS = {
  ...GENERATION_OPTIONS,
  'max-rounds': { type: 'string' },
  threshold: { type: 'string' },
  check: { type: 'string', multiple: true },
  force: { type: 'string' },
  'out-dir': { type: 'string' },
} as const;

export const reflectCommand: CliCommand = {
  name: 'reflect',
  summary: 'make an image, let the model check and fix it round by round, keep the best',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parseCommandArgs('reflect', argv, OPTIONS);
    if (values.prompt === undefined || values.prompt.trim() === '') throw new UsageError('--prompt is required');
    if (values['out-dir'] === undefined) throw new UsageError('--out-dir DIR is required');
    const { dir: modelDir, repo, weightCacheDir } = await chosenModel(values.model, ctx);
    const recipe = recipeOptions(values, values.prompt);
    const images = inputImages(values.image, ctx);
    const provider = providerRequest(values.provider, ctx);
    const job: ReflectJob = {
      modelDir,
      weightCacheDir,
      prompt: recipe.prompt,
      negative: recipe.negativePrompt,
      images,
      params: generationParams(recipe),
      maxRevisions: intOption('max-rounds', values['max-rounds'], DEFAULT_MAX_REVISIONS, {
        min: 0,
        max: MAX_REVISIONS,
      }),
      threshold: numberOption('threshold', values.threshold, DEFAULT_THRESHOLD, { min: 0, max: 1 }),
      force: readForce(values.force),
      checklist: values.check ? values.check.map(readCheck) : null,
      continueFrom: null,
      provider,
      memoryMode: memoryModeOption(values['memory-mode']),
    };
    const outDir = resolve(ctx.cwd, values['out-dir']);
    await mkdir(outDir, { recursive: true }).catch((e: Error) => {
      throw new CliError(`cannot create ${outDir}: ${e.message}`);
    });
    const recorder = new ReflectionRecorder({
      sessionId: 'cli',
      createdAt: new Date().toISOString(),
      threshold: job.threshold,
      recipe,
      modelId: modelIdOf(modelDir, repo ?? undefined),
      appVersion: cliVersion(),
      known: images,
      base: null,
    });
    return new RoundWriter(ctx, outDir, recorder).run(job);
  },
};

/** Follows the engine's reports: writes each round's PNG as it arrives, prints each critiqued round, keeps rounds.json current. */
class RoundWriter {
  private readonly files = new Map<string, string>();
  private readonly printed = new Set<string>();
  private checklist: { source: string; checks: readonly CheckSpec[] } | null = null;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: CliContext,
    private readonly outDir: string,
    private readonly recorder: ReflectionRecorder,
  ) {}

  async run(job: ReflectJob): Promise<number> {
    const bar = new ProgressBar(this.ctx);
    const engine = withTaskReports(startWorkerEngine(), {
      report: (_id, r) => {
        if (r.kind === 'reflect') this.onEvent(r.event);
      },
      failed: () => {},
    });
    const controller = new AbortController();
    this.ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
    let outcome: ReflectionOutcome | null = null;
    try {
      if (job.provider) await printProviderChoice(engine, job.provider, this.ctx);
      outcome = (await engine.run(
        'cli',
        { kind: 'reflect', job },
        {
          signal: controller.signal,
          onProgress: (p) => bar.update(stepProgress(p, `Round ${this.files.size}`)),
        },
      )) as ReflectionOutcome;
    } finally {
      bar.finish();
      await engine.dispose();
      await this.pending;
      await this.writeRecord(
        outcome ? outcome.stopReason : controller.signal.aborted ? 'user' : null,
        outcome?.bestRoundId,
      );
    }
    const best = outcome.bestRoundId === null ? null : this.files.get(outcome.bestRoundId);
    this.ctx.stdout(`best: ${best ? join(this.outDir, best) : 'none'} (stopped: ${outcome.stopReason})\n`);
    return 0;
  }

  private onEvent(event: ReflectionEvent): void {
    if (event.type === 'checklist') {
      this.checklist = { source: event.source, checks: event.checks.map(({ question, tag }) => ({ question, tag })) };
      this.ctx.stdout(
        `checks (${event.source}):\n${event.checks.map((c) => `  ${c.tag.padEnd(9)} ${c.question}\n`).join('')}`,
      );
      return;
    }
    if (event.type !== 'round') return;
    const { round, image } = this.recorder.round(event.round, event.image);
    if (image) {
      const name = `round-${this.files.size}.png`;
      this.files.set(round.id, name);
      this.queue(() => writeOutputFile(join(this.outDir, name), image.bytes));
    }
    if (round.score && !this.printed.has(round.id)) {
      this.printed.add(round.id);
      this.ctx.stdout(`${describe(round, this.files.get(round.id))}\n`);
      this.queue(() => this.writeRecord(null));
    }
  }

  /** rounds.json: the session in the project file's format, the file of each round, and the checklist. */
  private async writeRecord(
    stopReason: ReflectionOutcome['stopReason'] | null,
    bestRoundId?: string | null,
  ): Promise<void> {
    const session = this.recorder.session(stopReason, bestRoundId);
    const record = { version: 1, session, checklist: this.checklist, files: Object.fromEntries(this.files) };
    await writeOutputFile(
      join(this.outDir, 'rounds.json'),
      new TextEncoder().encode(`${JSON.stringify(record, null, 2)}\n`),
    );
  }

  /** File writes run in order, one at a time, and are awaited before the command returns. */
  private queue(write: () => Promise<void>): void {
    this.pending = this.pending.then(write);
  }
}

function describe(round: ReflectionRound, file: string | undefined): string {
  const s = round.score!;
  const action = round.mode === 'edit' ? `edit: ${round.text}` : `${round.mode}, seed ${round.seed}`;
  return `${file ?? '(no image)'}  ${s.passed}/${s.total} checks  mean p ${s.meanProbability.toFixed(2)}  ${action}`;
}

function readForce(raw: string | undefined): ForcedMode[] {
  if (raw === undefined) return [];
  const modes = raw.split(',').map((m) => m.trim());
  const bad = modes.find((m) => m !== 'auto' && m !== 'edit' && m !== 'regenerate');
  if (bad !== undefined) throw new UsageError(`--force takes auto, edit or regenerate per revision, got "${bad}"`);
  return modes as ForcedMode[];
}

function readCheck(raw: string): CheckSpec {
  const m = /^\s*(\w+)\s*\|\s*(.+\?)\s*$/.exec(raw);
  if (!m || !CHECK_TAGS.includes(m[1]!.toLowerCase() as CheckTag)) {
    throw new UsageError(`--check must read "TAG | question?" with TAG one of ${CHECK_TAGS.join(', ')}, got "${raw}"`);
  }
  return { tag: m[1]!.toLowerCase() as CheckTag, question: m[2]!.trim() };
}
