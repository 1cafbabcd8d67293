import { randomUUID } from 'node:crypto';
import type { Events, IpcError, JobId, JobSummary } from '../../ipc/contract.ts';
import { toIpcError } from '../../ipc/errors.ts';
import type { Engine } from '../../engine/host/engine-client.ts';
import type { EngineProgress, EngineTask } from '../../engine/host/protocol.ts';

export type Emit = <E extends keyof Events>(event: E, payload: Events[E]) => void;

interface QueuedJob {
  summary: JobSummary;
  task: EngineTask;
  controller: AbortController;
  /** Turns the engine's result into the 'job.finished' payload (e.g. PNG bytes + recipe). */
  finish: (result: unknown) => Omit<Events['job.finished'], 'jobId'>;
}

/**
 * The visible job queue: jobs run one at a time on the engine, in order; each one reports queued → started →
 * progress… → finished | failed. Cancelling a queued job removes it; cancelling a running one stops it between steps.
 */
export class JobQueue {
  private readonly jobs: QueuedJob[] = [];
  private running: QueuedJob | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly emit: Emit,
  ) {}

  submit(kind: JobSummary['kind'], label: string, task: EngineTask, finish: QueuedJob['finish']): JobId {
    const job: QueuedJob = {
      summary: { id: randomUUID(), kind, state: 'queued', label },
      task,
      controller: new AbortController(),
      finish,
    };
    this.jobs.push(job);
    this.emit('job.queued', { job: { ...job.summary } });
    void this.pump();
    return job.summary.id;
  }

  cancel(id: JobId): boolean {
    const job = this.jobs.find((j) => j.summary.id === id) ?? (this.running?.summary.id === id ? this.running : null);
    if (!job || job.summary.state === 'done' || job.summary.state === 'failed' || job.summary.state === 'cancelled')
      return false;
    job.controller.abort();
    if (job !== this.running) {
      this.jobs.splice(this.jobs.indexOf(job), 1);
      this.fail(job, { code: 'cancelled', message: `${job.summary.label} was cancelled` });
    }
    return true;
  }

  list(): JobSummary[] {
    return [...(this.running ? [this.running] : []), ...this.jobs].map((j) => ({ ...j.summary }));
  }

  /** Resolves once nothing is queued or running (used by the CLI and tests). */
  async idle(): Promise<void> {
    while (this.running || this.jobs.length > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const job = this.jobs.shift();
    if (!job) return;
    this.running = job;
    job.summary.state = 'running';
    this.emit('job.started', { jobId: job.summary.id });
    try {
      const result = await this.engine.run(job.summary.id, job.task, {
        signal: job.controller.signal,
        onProgress: (p: EngineProgress) => this.emit('job.progress', { jobId: job.summary.id, ...p }),
      });
      job.summary.state = 'done';
      this.emit('job.finished', { ...job.finish(result), jobId: job.summary.id });
    } catch (e) {
      this.fail(job, toIpcError(e));
    } finally {
      this.running = null;
      void this.pump();
    }
  }

  private fail(job: QueuedJob, error: IpcError): void {
    job.summary.state = error.code === 'cancelled' ? 'cancelled' : 'failed';
    this.emit('job.failed', { jobId: job.summary.id, error });
  }
}
