import { randomUUID } from 'node:crypto';
import type { Events, JobId, ReflectRequest, ReflectionRound } from '../../ipc/contract.ts';
import type { Engine } from '../../engine/host/engine-client.ts';
import type { EngineReport } from '../../engine/host/protocol.ts';
import type { ReflectJob, ReflectionOutcome, StopReason, StoredRound } from '../../engine/pipeline/reflection.ts';
import type { Emit, JobQueue } from '../jobs/job-queue.ts';
import { modelFolder } from './generation-jobs.ts';
import { generationParams, modelIdOf } from './recipe.ts';
import { ReflectionRecorder } from './reflection-records.ts';

/** A reflect request that cannot run (e.g. continuing from a round its session does not have). */
export class ReflectionRequestError extends Error {
  override readonly name = 'ReflectionRequestError';
  readonly code = 'invalid-request';
}

/** Where an engine's task reports go, by job id. */
export interface TaskReportSink {
  report(jobId: string, report: EngineReport): void;
  /** The task failed or was cancelled (its result never comes). */
  failed(jobId: string): void;
}

/**
 * Engine decorator: peels task reports (a reflection's rounds and stages) off progress messages and hands them to
 * `sink`, so the job queue sees plain step progress only ('job.progress').
 */
export function withTaskReports(engine: Engine, sink: TaskReportSink): Engine {
  return {
    async run(jobId, task, options = {}) {
      try {
        return await engine.run(jobId, task, {
          ...options,
          onProgress: ({ report, ...progress }) =>
            report ? sink.report(jobId, report) : options.onProgress?.(progress),
        });
      } catch (e) {
        sink.failed(jobId);
        throw e;
      }
    },
    dispose: () => engine.dispose(),
  };
}

interface Running {
  readonly sessionId: string;
  readonly recorder: ReflectionRecorder;
}

export interface ReflectionJobsDeps {
  readonly emit: Emit;
  readonly version: string;
  readonly modelsDir: () => string;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/**
 * The app's reflect jobs (reflection.md §4): submits them to the job queue, turns the engine's round reports into
 * 'reflect.*' events with stored images (recipes embedded), and ends each job with 'reflect.finished'.
 */
export class ReflectionJobs implements TaskReportSink {
  private readonly running = new Map<JobId, Running>();

  constructor(private readonly deps: ReflectionJobsDeps) {}

  /** @param runtime where the engine runs it (the provider and memory mode from settings) and where converted weights go */
  submit(
    queue: JobQueue,
    req: ReflectRequest,
    runtime: Pick<ReflectJob, 'provider' | 'memoryMode' | 'weightCacheDir'> = {},
  ): JobId {
    const from = req.continueFrom;
    if (from && !from.session.rounds.some((r) => r.id === from.roundId)) {
      throw new ReflectionRequestError(`the session has no round "${from.roundId}" to continue from`);
    }
    if (from && from.session.prompt !== req.recipe.prompt)
      throw new ReflectionRequestError('a continued session keeps its prompt; start a new reflection for a new prompt');
    const sessionId = from?.session.id ?? (this.deps.newId ?? randomUUID)();
    const recorder = new ReflectionRecorder({
      sessionId,
      createdAt: (this.deps.now?.() ?? new Date()).toISOString(),
      threshold: req.threshold,
      recipe: req.recipe,
      modelId: modelIdOf(req.model),
      appVersion: this.deps.version,
      known: [...req.images, ...(from ? [from.image.bytes] : [])],
      base: from?.session ?? null,
    });
    const label = `Reflect: ${req.recipe.prompt.slice(0, 70) || 'Untitled'}`;
    const job = toReflectJob(req, modelFolder(req.model, this.deps.modelsDir()), runtime);
    const jobId = queue.submit('reflect', label, { kind: 'reflect', job }, (result) =>
      this.finish(jobId, result as ReflectionOutcome),
    );
    this.running.set(jobId, { sessionId, recorder });
    return jobId;
  }

  /** Stops the job now and delivers its best round so far (§4.6 e). */
  accept(queue: JobQueue, id: JobId): void {
    if (!this.running.has(id)) throw Object.assign(new Error(`no running reflection ${id}`), { code: 'not-found' });
    this.end(id, 'user');
    queue.cancel(id);
  }

  readonly report = (jobId: string, report: EngineReport): void => {
    const job = this.running.get(jobId);
    if (!job || report.kind !== 'reflect') return; // accepted: later reports of the stopping engine are dropped
    const { sessionId } = job;
    const e = report.event;
    if (e.type === 'checklist')
      this.deps.emit('reflect.checklist', {
        jobId,
        sessionId,
        checks: e.checks.map(({ question, tag }) => ({ question, tag })),
        source: e.source,
      });
    else if (e.type === 'stage')
      this.deps.emit('reflect.stage', { jobId, sessionId, roundId: e.roundId, stage: e.stage });
    else if (e.type === 'round')
      this.deps.emit('reflect.round', { jobId, sessionId, ...job.recorder.round(e.round, e.image) });
  };

  /** Cancelled or failed: the rounds made so far stay, as a session without a stop reason unless the user stopped it. */
  readonly failed = (jobId: string): void => {
    if (this.running.has(jobId)) this.end(jobId, null);
  };

  private finish(jobId: JobId, outcome: ReflectionOutcome): Omit<Events['job.finished'], 'jobId'> {
    const job = this.running.get(jobId);
    if (!job) return { images: [] };
    this.end(jobId, outcome.stopReason, outcome.bestRoundId);
    const best = job.recorder.outputOf(outcome.bestRoundId);
    return { images: best ? [best] : [] };
  }

  private end(jobId: JobId, stopReason: StopReason | null, bestRoundId?: string | null): void {
    const job = this.running.get(jobId)!;
    this.running.delete(jobId);
    this.deps.emit('reflect.finished', { jobId, session: job.recorder.session(stopReason, bestRoundId) });
  }
}

/** A renderer request as the engine host's job. */
export function toReflectJob(
  req: ReflectRequest,
  modelDir: string,
  runtime: Pick<ReflectJob, 'provider' | 'memoryMode' | 'weightCacheDir'> = {},
): ReflectJob {
  const { recipe, continueFrom: from } = req;
  return {
    ...runtime,
    modelDir,
    prompt: recipe.prompt,
    negative: recipe.negativePrompt,
    images: req.images,
    params: generationParams(recipe),
    maxRevisions: req.maxRevisions,
    threshold: req.threshold,
    force: req.force,
    checklist: req.checklist ?? (from ? checklistOf(from.session.rounds, from.roundId) : null),
    continueFrom: from && { path: pathTo(from.session.rounds, from.roundId), image: from.image.bytes, fix: from.fix },
  };
}

/** Round 0 … `roundId` along the parent links, as the engine's stored rounds. */
export function pathTo(rounds: readonly ReflectionRound[], roundId: string): StoredRound[] {
  const byId = new Map(rounds.map((r) => [r.id, r]));
  const path: StoredRound[] = [];
  for (let r = byId.get(roundId); r; r = r.parentId === null ? undefined : byId.get(r.parentId)) {
    path.unshift({
      id: r.id,
      index: 0,
      mode: r.mode,
      text: r.text,
      results: r.checklist.map((c) => ({ question: c.question, tag: c.tag, pYes: c.probability, passed: c.passed })),
      score: r.score && { passed: r.score.passed, total: r.score.total, meanPYes: r.score.meanProbability },
    });
    if (path.length > rounds.length) throw new ReflectionRequestError("the session's rounds link in a cycle");
  }
  return path.map((r, index) => ({ ...r, index }));
}

/** Continuing keeps the checks the chosen round was scored on, so its scores stay comparable. */
function checklistOf(rounds: readonly ReflectionRound[], roundId: string): ReflectRequest['checklist'] {
  const checks = rounds.find((r) => r.id === roundId)?.checklist ?? [];
  return checks.length > 0 ? checks.map(({ question, tag }) => ({ question, tag })) : null;
}
