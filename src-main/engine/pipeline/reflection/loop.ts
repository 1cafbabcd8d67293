/**
 * The reflection loop (reflection.md §4): checklist → round 0 → critique → (fix) → edit or regenerate → … until
 * the stop rule of §4.6; the best-scoring round is delivered. Every state change is reported as an event, so a
 * UI shows live state per round and a project stores each round as a node of a tree (§4.7).
 */
import { createHash, randomUUID } from 'node:crypto';
import { CancelledError } from '../../cancellation.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import type { GenerationParams } from '../generate.ts';
import { buildChecklist } from './checklist.ts';
import { scoreChecks, scoreOf, type Critic, type Inspection } from './critic.ts';
import { proposeFix } from './fix.ts';
import type { GeneratedRound, RoundGenerator } from './generator.ts';
import {
  ProgressTracker,
  bestRound,
  confirmEdit,
  planRevision,
  regenerationPrompt,
  roundSeed,
  stopAfter,
  type PathRound,
  type Plan,
} from './policy.ts';
import type {
  Check,
  CheckResult,
  CheckSpec,
  ForcedMode,
  ReflectionEvent,
  ReflectionOutcome,
  RoundMode,
  RoundRecord,
  StopReason,
} from './types.ts';

/** §4.6: revisions after round 0. */
export const MAX_REVISIONS = 5;
export const DEFAULT_MAX_REVISIONS = 3;
/** §4.4: τ (0.65 is the "strict" setting). */
export const DEFAULT_THRESHOLD = 0.5;
/** §4.5: image guidance of edit rounds (README edit range 1.2–2.0). */
export const EDIT_IMAGE_GUIDANCE = 1.5;

export interface SourceImage {
  readonly rgb: RgbImage;
  /** sha256 of the encoded file the user gave. */
  readonly hash: string;
}

export interface ReflectionParams {
  /** The user's prompt: the anchor of every round (§4.5). */
  readonly prompt: string;
  readonly negative: string;
  /** The job's input images (an edit or composition job); none for text-to-image. */
  readonly sources: readonly SourceImage[];
  /** Round 0's parameters; its seed is the base of every round's seed. */
  readonly generation: GenerationParams;
  /** 0–5 (§4.6 b). */
  readonly maxRevisions: number;
  /** τ in [0, 1] (§4.4). */
  readonly threshold: number;
  /** Mode overrides for revision 1, 2, … ('auto' or absent: §4.5 decides). */
  readonly force: readonly ForcedMode[];
  /** The user's checks; null derives them from the prompt (§4.2). */
  readonly checklist: readonly CheckSpec[] | null;
}

/** "Continue from here" (§4.7): branch from a stored round. */
export interface ContinueFrom {
  /** Round 0 … the round to continue from, as recorded. */
  readonly path: readonly (PathRound & { readonly id: string; readonly index: number })[];
  /** That round's output image. */
  readonly image: SourceImage;
  /** The user's own fix: the first new round edits with it. */
  readonly fix: string | null;
}

export interface ReflectionDeps {
  readonly critic: Critic;
  readonly generator: RoundGenerator;
  readonly newId?: () => string;
  /** Milliseconds, for timings. */
  readonly now?: () => number;
}

export interface ReflectionRun {
  /** Cancel: stops at once; the rounds reported so far stay reported. */
  readonly signal?: AbortSignal;
  /** Accept (§4.6 e): stops at once and delivers the best round so far. */
  readonly accept?: AbortSignal;
  readonly onEvent?: (event: ReflectionEvent) => void;
}

/** A critiqued round the loop can continue from. */
interface Current extends PathRound {
  readonly id: string;
  readonly index: number;
  readonly image: SourceImage;
  inspection: Inspection | null;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function checkReflectionParams(p: ReflectionParams): void {
  if (!Number.isInteger(p.maxRevisions) || p.maxRevisions < 0 || p.maxRevisions > MAX_REVISIONS) {
    throw new RangeError(`max revisions must be a whole number from 0 to ${MAX_REVISIONS}, got ${p.maxRevisions}`);
  }
  if (!(p.threshold >= 0 && p.threshold <= 1))
    throw new RangeError(`the threshold must be within [0, 1], got ${p.threshold}`);
  if (p.prompt.trim() === '') throw new RangeError('reflection needs a prompt to check the image against');
}

export async function runReflection(
  params: ReflectionParams,
  deps: ReflectionDeps,
  run: ReflectionRun = {},
  from: ContinueFrom | null = null,
): Promise<ReflectionOutcome> {
  checkReflectionParams(params);
  const loop = new Loop(params, deps, run);
  return loop.run(from);
}

class Loop {
  private readonly records: RoundRecord[] = [];
  private checks: readonly Check[] = [];
  private readonly newId: () => string;
  private readonly now: () => number;

  constructor(
    private readonly params: ReflectionParams,
    private readonly deps: ReflectionDeps,
    private readonly runOptions: ReflectionRun,
  ) {
    this.newId = deps.newId ?? randomUUID;
    this.now = deps.now ?? (() => performance.now());
  }

  async run(from: ContinueFrom | null): Promise<ReflectionOutcome> {
    const { params } = this;
    this.emit({ type: 'stage', roundId: null, stage: 'listing-checks' });
    const checklist = await buildChecklist(params.prompt, params.checklist, this.deps.critic, this.runOptions.signal);
    this.checks = checklist.checks;
    this.emit({ type: 'checklist', checks: checklist.checks, source: checklist.source, raw: checklist.raw });

    const path: Current[] = [];
    const compared: Current[] = [];
    let progress: ProgressTracker;
    let stop: StopReason | null = null;
    if (from) {
      // Only the last stored round's image is ever used (the next edit starts from it); the earlier ones need none.
      path.push(...from.path.map((r) => ({ ...r, image: from.image, inspection: null })));
      if (!sameChecks(this.checks, path.at(-1)!.results)) await this.rescore(path);
      // Scores under other checks do not compare (the user edited the checklist): those rounds drop out of the ranking.
      compared.push(...path.filter((r) => sameChecks(this.checks, r.results)));
      progress = new ProgressTracker(bestRound(compared)?.score ?? null);
    } else {
      const round0 = await this.round({
        mode: 'generate',
        text: params.prompt,
        images: params.sources,
        params: params.generation,
        parent: null,
        escalated: false,
      });
      if (!round0) return this.outcome(checklist.source, 'user', []);
      path.push(round0);
      compared.push(round0);
      progress = new ProgressTracker();
      progress.observe(round0.score!);
      stop = stopAfter(round0, null, { revisions: 0, maxRevisions: params.maxRevisions, progress });
    }

    let userFix = from?.fix ?? null;
    for (let revisions = 0; stop === null;) {
      if (this.runOptions.accept?.aborted) {
        stop = 'user';
        break;
      }
      const current = path.at(-1)!;
      const forced = params.force[revisions] ?? 'auto';
      const plan =
        userFix !== null
          ? { mode: 'edit' as const, escalated: false, instruction: userFix }
          : await this.plan(current, path, forced);
      userFix = null;
      current.inspection?.release();
      current.inspection = null;
      revisions++;
      const next = await this.round(
        plan.mode === 'edit'
          ? {
              mode: 'edit',
              text: plan.instruction!,
              images: [current.image],
              params: { ...params.generation, imageGuidance: EDIT_IMAGE_GUIDANCE },
              parent: current,
              escalated: false,
            }
          : {
              mode: 'regenerate',
              text: regenerationPrompt(params.prompt, current.results),
              images: params.sources,
              params: params.generation,
              parent: current,
              escalated: plan.escalated,
            },
      );
      if (!next) {
        stop = 'user';
        break;
      }
      path.push(next);
      compared.push(next);
      progress.observe(next.score!);
      stop = stopAfter(next, current, { revisions, maxRevisions: params.maxRevisions, progress });
    }
    path.at(-1)!.inspection?.release();
    return this.outcome(checklist.source, stop, compared);
  }

  /** §4.5 for the next round; an edit writes the fix first (stored on `current`), which may still escalate. */
  private async plan(
    current: Current,
    path: readonly Current[],
    forced: ForcedMode,
  ): Promise<Plan & { instruction?: string }> {
    const plan = planRevision(current.results, path, forced);
    if (plan.mode !== 'edit') return plan;
    this.emit({ type: 'stage', roundId: current.id, stage: 'writing-fix' });
    const started = this.now();
    current.inspection ??= await this.deps.critic.inspect(this.view(current.image), this.runOptions.signal);
    const failed = current.results.filter((r) => !r.passed).map((r) => r.check.question);
    const fix = proposeFix(
      await current.inspection.writeFix(failed, this.runOptions.signal),
      current.results,
      this.checks,
    );
    const fixMs = this.now() - started;
    this.update(current.id, (r) => ({ ...r, fix, timings: { ...r.timings, fixMs } }));
    return { ...confirmEdit(fix.instruction, path, forced), instruction: fix.instruction };
  }

  /** Generates and critiques one round; null when the user accepted while it was generating. */
  private async round(spec: {
    mode: RoundMode;
    text: string;
    images: readonly SourceImage[];
    params: GenerationParams;
    parent: Current | null;
    escalated: boolean;
  }): Promise<Current | null> {
    const index = spec.parent ? spec.parent.index + 1 : 0;
    const seed = roundSeed(this.params.generation.seed, index);
    const record: RoundRecord = {
      id: this.newId(),
      parentId: spec.parent?.id ?? null,
      index,
      mode: spec.mode,
      text: spec.text,
      seed,
      params: { ...spec.params, seed },
      inputImages: spec.images.map((i) => i.hash),
      outputImage: null,
      results: [],
      score: null,
      fix: null,
      escalated: spec.escalated,
      timings: { generateMs: null, critiqueMs: null, fixMs: null },
    };
    this.records.push(record);
    this.emit({ type: 'stage', roundId: record.id, stage: 'generating' });
    this.emit({ type: 'round', round: record });

    const generated = await this.generate(record, spec.images);
    if (!generated) return null;
    const image = { rgb: generated.image.rgb, hash: sha256(generated.image.png) };
    const { rgb, png } = generated.image;
    this.update(
      record.id,
      (r) => ({ ...r, outputImage: image.hash, timings: { ...r.timings, generateMs: generated.ms } }),
      { png, width: rgb.width, height: rgb.height },
    );

    this.emit({ type: 'stage', roundId: record.id, stage: 'checking' });
    const started = this.now();
    const inspection = await this.deps.critic.inspect(this.view(image), this.runOptions.signal);
    const results = await scoreChecks(inspection, this.checks, this.params.threshold, this.runOptions.signal);
    const score = scoreOf(results);
    const critiqueMs = this.now() - started;
    this.update(record.id, (r) => ({ ...r, results, score, timings: { ...r.timings, critiqueMs } }));
    return {
      id: record.id,
      index,
      mode: spec.mode,
      text: spec.text,
      results,
      score,
      escalated: spec.escalated,
      image,
      inspection,
    };
  }

  private async generate(
    record: RoundRecord,
    images: readonly SourceImage[],
  ): Promise<{ image: GeneratedRound; ms: number } | null> {
    const { signal, accept } = this.runOptions;
    const stops = [signal, accept].filter((s) => s !== undefined);
    const started = this.now();
    try {
      const image = await this.deps.generator.generate(
        {
          prompt: record.text,
          negative: this.params.negative,
          images: images.map((i) => i.rgb),
          params: record.params,
        },
        {
          signal: stops.length > 0 ? AbortSignal.any(stops) : undefined,
          onStep: (step, steps) => this.emit({ type: 'denoise', roundId: record.id, step, steps }),
        },
      );
      return { image, ms: this.now() - started };
    } catch (e) {
      if (e instanceof CancelledError && accept?.aborted && !signal?.aborted) return null;
      throw e;
    }
  }

  /** Scores the stored round continued from again: its checks were edited, or it was never critiqued. */
  private async rescore(path: Current[]): Promise<void> {
    const parent = path.at(-1)!;
    this.emit({ type: 'stage', roundId: parent.id, stage: 'checking' });
    const inspection = await this.deps.critic.inspect(this.view(parent.image), this.runOptions.signal);
    const results = await scoreChecks(inspection, this.checks, this.params.threshold, this.runOptions.signal);
    path[path.length - 1] = { ...parent, results, score: scoreOf(results), inspection };
  }

  private view(image: SourceImage) {
    const { sources, prompt } = this.params;
    // The source is shown only for a one-image edit job (§4.3); a composition is critiqued like text-to-image.
    return { prompt, result: image.rgb, source: sources.length === 1 ? sources[0]!.rgb : null };
  }

  private update(
    id: string,
    change: (r: RoundRecord) => RoundRecord,
    image?: { png: Uint8Array; width: number; height: number },
  ): void {
    const i = this.records.findIndex((r) => r.id === id);
    if (i < 0) return; // a stored round being continued from: its record is not this run's
    this.records[i] = change(this.records[i]!);
    this.emit(image ? { type: 'round', round: this.records[i], image } : { type: 'round', round: this.records[i] });
  }

  /** `compared` is in path order (stored rounds, then this run's), so ties go to the earlier round (§4.6). */
  private outcome(
    source: ReflectionOutcome['checklistSource'],
    stopReason: StopReason,
    compared: readonly Current[],
  ): ReflectionOutcome {
    return {
      checks: this.checks,
      checklistSource: source,
      rounds: [...this.records],
      bestRoundId: bestRound(compared)?.id ?? null,
      stopReason,
    };
  }

  private emit(event: ReflectionEvent): void {
    this.runOptions.onEvent?.(event);
  }
}

/** The checks a round was scored on are the current ones (same questions and tags, same order). */
function sameChecks(checks: readonly Check[], results: readonly CheckResult[]): boolean {
  return (
    results.length === checks.length &&
    results.every((r, i) => r.check.question === checks[i]!.question && r.check.tag === checks[i]!.tag)
  );
}
