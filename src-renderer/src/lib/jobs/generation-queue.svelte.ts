import { t } from '../i18n/i18n.svelte.ts';
import type { AtelierApi, Events, GeneratedImage, IpcError, JobId } from '../../../../src-main/ipc/contract.ts';
import type { HistoryItem, HistoryState } from '../history/history-state.svelte.ts';
import { describeError, type Notice } from '../shell/error-messages.ts';
import type { ImageStore, StoredImage } from '../workspace/image-store.ts';
import type { GenerationSpec } from '../workspace/workspace-state.svelte.ts';

export type JobPhase = 'submitting' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface GenerationJob {
  /** Ours, known before main answers with the job id. */
  key: string;
  jobId: JobId | null;
  label: string;
  model: string;
  spec: GenerationSpec;
  phase: JobPhase;
  step: number;
  total: number;
  etaMs: number | null;
  stage: string;
  /** blob: URL of the latest step preview. */
  previewUrl: string | null;
  error: IpcError | null;
  cancelRequested: boolean;
}

type JobEvent = {
  [E in 'job.started' | 'job.progress' | 'job.finished' | 'job.failed']: { event: E; payload: Events[E] };
}['job.started' | 'job.progress' | 'job.finished' | 'job.failed'];

const KEEP_FINISHED = 20;
/** Events of jobs we have not heard the id of yet (main may announce a job before `generate` returns). */
const EARLY_LIMIT = 50;

/** The renderer's only owner of generation IPC: submits, follows progress, cancels, files results in history. */
export class GenerationQueue {
  jobs = $state<GenerationJob[]>([]);
  notice = $state<Notice | null>(null);
  readonly active = $derived(this.jobs.filter((j) => isActive(j.phase)));
  readonly running = $derived(this.jobs.find((j) => j.phase === 'running') ?? null);
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- events held for jobs not yet known; nothing renders them
  readonly #early = new Map<JobId, JobEvent[]>();
  #nextKey = 0;
  /** A job ended: done, failed or cancelled (the chat links its pictures this way). */
  onSettled?: (job: GenerationJob, resultIds: string[]) => void;

  constructor(
    private readonly api: AtelierApi,
    private readonly images: ImageStore,
    private readonly history: HistoryState,
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a timestamp read once, never mutated
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Subscribes to job events; returns the unsubscribe. */
  connect(): () => void {
    const offs = [
      this.api.on('job.started', (payload) => this.#route({ event: 'job.started', payload })),
      this.api.on('job.progress', (payload) => this.#route({ event: 'job.progress', payload })),
      this.api.on('job.finished', (payload) => this.#route({ event: 'job.finished', payload })),
      this.api.on('job.failed', (payload) => this.#route({ event: 'job.failed', payload })),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Returns the job's key, which `cancel` takes. */
  async submit(model: string, spec: GenerationSpec): Promise<string> {
    const key = `job-${++this.#nextKey}`;
    const label = spec.recipe.prompt.length > 60 ? `${spec.recipe.prompt.slice(0, 57)}…` : spec.recipe.prompt;
    this.jobs.push({
      key,
      jobId: null,
      label,
      model,
      spec,
      phase: 'submitting',
      step: 0,
      total: spec.recipe.steps,
      etaMs: null,
      stage: '',
      previewUrl: null,
      error: null,
      cancelRequested: false,
    });
    this.#trim();
    const images = spec.inputs.map((hash) => this.images.require(hash).bytes);
    const answer = await this.api.jobs.generate({ model, recipe: $state.snapshot(spec.recipe), images });
    const job = this.#byKey(key);
    if (!job) return key;
    if (!answer.ok) {
      this.#fail(job, answer.error);
      return key;
    }
    job.jobId = answer.value;
    if (job.phase === 'submitting') job.phase = 'queued';
    for (const e of this.#early.get(answer.value) ?? []) this.#apply(job, e);
    this.#early.delete(answer.value);
    if (job.cancelRequested) await this.cancel(key);
    return key;
  }

  async cancel(key: string): Promise<void> {
    const job = this.#byKey(key);
    if (!job || !isActive(job.phase)) return;
    job.cancelRequested = true;
    if (!job.jobId) return; // cancelled as soon as main names it
    const r = await this.api.jobs.cancel(job.jobId);
    // not-found: it finished meanwhile, and its outcome event says so.
    if (!r.ok && r.error.code !== 'not-found') this.notice = describeError(r.error, t('doing.cancel'));
  }

  /** Esc: the running job, or else the newest waiting one. */
  async cancelCurrent(): Promise<void> {
    const target = this.running ?? this.active.at(-1);
    if (target) await this.cancel(target.key);
  }

  clearFinished(): void {
    this.jobs = this.jobs.filter((j) => isActive(j.phase));
  }

  #route(e: JobEvent): void {
    const job = this.jobs.find((j) => j.jobId === e.payload.jobId);
    if (job) {
      this.#apply(job, e);
      return;
    }
    this.#early.set(e.payload.jobId, [...(this.#early.get(e.payload.jobId) ?? []), e]);
    if (this.#early.size > EARLY_LIMIT) this.#early.delete(this.#early.keys().next().value!);
  }

  #apply(job: GenerationJob, e: JobEvent): void {
    switch (e.event) {
      case 'job.started':
        if (isActive(job.phase)) job.phase = 'running';
        break;
      case 'job.progress': {
        const { step, total, etaMs, stage, preview } = e.payload;
        Object.assign(job, { phase: 'running', step, total, etaMs, stage });
        if (preview) this.#setPreview(job, URL.createObjectURL(new Blob([preview as BlobPart], { type: 'image/png' })));
        break;
      }
      case 'job.finished':
        void this.#finish(job.key, e.payload.images);
        break;
      case 'job.failed':
        this.#fail(job, e.payload.error);
        break;
    }
  }

  async #finish(key: string, generated: GeneratedImage[]): Promise<void> {
    let stored: StoredImage[];
    try {
      stored = await Promise.all(generated.map((g) => this.images.add(g.png, 'image/png')));
    } catch (e) {
      // The run is over either way; say so instead of leaving it "running" forever.
      const job = this.#byKey(key);
      if (job)
        this.#fail(job, {
          code: 'corrupt-file',
          message: `the finished image could not be shown: ${(e as Error).message}`,
        });
      return;
    }
    const job = this.#byKey(key);
    if (!job) return;
    const createdAt = this.now().toISOString();
    const items: HistoryItem[] = generated.map((g, i) => ({
      id: `${job.jobId}-${i}`,
      jobId: job.jobId!,
      image: stored[i]!.hash,
      width: g.width,
      height: g.height,
      recipe: g.recipe,
      createdAt,
      inputs: [...job.spec.inputs],
      mode: job.spec.mode,
      model: job.model,
    }));
    this.history.add(items);
    job.phase = 'done';
    job.step = job.total;
    this.#setPreview(job, null);
    this.onSettled?.(
      job,
      items.map((i) => i.id),
    );
  }

  #fail(job: GenerationJob, error: IpcError): void {
    job.phase = error.code === 'cancelled' ? 'cancelled' : 'failed';
    job.error = error;
    this.#setPreview(job, null);
    if (job.phase === 'failed') this.notice = describeError(error, t('doing.generate'));
    this.onSettled?.(job, []);
  }

  #setPreview(job: GenerationJob, url: string | null): void {
    if (job.previewUrl) URL.revokeObjectURL(job.previewUrl);
    job.previewUrl = url;
  }

  #byKey(key: string): GenerationJob | undefined {
    return this.jobs.find((j) => j.key === key);
  }

  #trim(): void {
    const finished = this.jobs.filter((j) => !isActive(j.phase));
    if (finished.length > KEEP_FINISHED) {
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup
      const drop = new Set(finished.slice(0, finished.length - KEEP_FINISHED));
      this.jobs = this.jobs.filter((j) => !drop.has(j));
    }
  }
}

export function isActive(phase: JobPhase): boolean {
  return phase === 'submitting' || phase === 'queued' || phase === 'running';
}
