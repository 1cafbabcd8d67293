import { createHash } from 'node:crypto';
import type { TaskContext } from '../../host/engine-server.ts';
import { decodeImage } from '../../image/decode-image.ts';
import type { ProviderRequest } from '../../onnx/providers.ts';
import type { GenerationParams } from '../generate.ts';
import type { MemoryMode } from '../memory-mode.ts';
import type { ModelSet } from '../model-set.ts';
import { linkDependencies } from './checklist.ts';
import { PipelineGenerator } from './generator.ts';
import { runReflection, type ContinueFrom } from './loop.ts';
import { ModelCritic } from './model-critic.ts';
import type { CheckSpec, ForcedMode, ReflectionEvent, ReflectionOutcome, RoundMode, RoundScore } from './types.ts';

/** A stored round on the path being continued from, as the project file keeps it (plain data). */
export interface StoredRound {
  readonly id: string;
  readonly index: number;
  readonly mode: RoundMode;
  readonly text: string;
  readonly results: readonly (CheckSpec & { readonly pYes: number | null; readonly passed: boolean })[];
  readonly score: RoundScore | null;
}

/** What the app asks the engine host for (plain data, so it crosses the process boundary). */
export interface ReflectJob {
  readonly modelDir: string;
  readonly prompt: string;
  readonly negative: string;
  /** The user's input images, encoded (an edit or composition job); none for text-to-image. */
  readonly images: readonly Uint8Array[];
  /** Round 0's parameters. */
  readonly params: GenerationParams;
  readonly maxRevisions: number;
  readonly threshold: number;
  readonly force: readonly ForcedMode[];
  /** The user's checks; null derives them from the prompt. */
  readonly checklist: readonly CheckSpec[] | null;
  /** "Continue from here": round 0 … the chosen round, that round's output (encoded) and an optional edited fix. */
  readonly continueFrom: {
    readonly path: readonly StoredRound[];
    readonly image: Uint8Array;
    readonly fix: string | null;
  } | null;
  /** Where to run (settings / --provider); absent: the CPU. */
  readonly provider?: ProviderRequest;
  /** What stays loaded between generating and critiquing (settings); absent: all-resident. */
  readonly memoryMode?: MemoryMode;
  /** Where converted weights go (the app's cache folder for a model it does not manage); absent: the model folder. */
  readonly weightCacheDir?: string;
}

/** How a reflection reaches the app: step progress as usual, everything else as a report (protocol.ts). */
export type ReflectReport = { readonly kind: 'reflect'; readonly event: ReflectionEvent };

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Runs the reflection loop in the engine host on one model folder's pipeline and MLLM. */
export async function runReflectJob(job: ReflectJob, models: ModelSet, ctx: TaskContext): Promise<ReflectionOutcome> {
  ctx.progress({ step: 0, total: job.params.steps, stage: 'loading', etaMs: null });
  const set = await models.openFor(job.modelDir, job);
  const sources = await Promise.all(
    job.images.map(async (bytes, i) => ({ rgb: await decodeImage(bytes, `image ${i + 1}`), hash: sha256(bytes) })),
  );
  const from = job.continueFrom && (await continuation(job.continueFrom));
  const critic = await ModelCritic.create(() => set.mllm());
  let denoiseStart = 0;
  const onEvent = (event: ReflectionEvent) => {
    if (event.type !== 'denoise') {
      ctx.progress({
        step: 0,
        total: job.params.steps,
        stage: event.type === 'stage' ? event.stage : event.type,
        etaMs: null,
        report: { kind: 'reflect', event },
      });
      return;
    }
    if (event.step <= 1) denoiseStart = performance.now();
    const perStep = event.step > 1 ? (performance.now() - denoiseStart) / (event.step - 1) : null;
    ctx.progress({
      step: event.step,
      total: event.steps,
      stage: 'denoising',
      etaMs: perStep === null ? null : perStep * (event.steps - event.step),
    });
  };
  return runReflection(
    {
      prompt: job.prompt,
      negative: job.negative,
      sources,
      generation: job.params,
      maxRevisions: job.maxRevisions,
      threshold: job.threshold,
      force: job.force,
      checklist: job.checklist,
    },
    { critic, generator: new PipelineGenerator(set) },
    { signal: ctx.signal, onEvent },
    from,
  );
}

async function continuation(c: NonNullable<ReflectJob['continueFrom']>): Promise<ContinueFrom> {
  if (c.path.length === 0) throw new RangeError('continuing needs the path of stored rounds up to the chosen one');
  const path = c.path.map((r) => {
    const checks = linkDependencies(r.results);
    return {
      ...r,
      results: r.results.map((x, i) => ({ check: checks[i]!, pYes: x.pYes, passed: x.passed })),
      escalated: false,
    };
  });
  return {
    path,
    image: { rgb: await decodeImage(c.image, 'the round continued from'), hash: sha256(c.image) },
    fix: c.fix,
  };
}
