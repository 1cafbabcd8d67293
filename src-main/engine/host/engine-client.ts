import { fromFailure } from './failure.ts';
import type { EngineProgress, EngineTask, FromEngine, MessageEndpoint, ToEngine } from './protocol.ts';

export interface RunOptions {
  onProgress?: (p: EngineProgress) => void;
  signal?: AbortSignal;
}

/** The app's view of the engine host, the same whether it is a utilityProcess or a worker thread. */
export interface Engine {
  run(jobId: string, task: EngineTask, options?: RunOptions): Promise<unknown>;
  dispose(): Promise<void>;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: EngineProgress) => void;
}

/** Correlates run/cancel messages with their replies by job id. */
export class EngineClient implements Engine {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly endpoint: MessageEndpoint<FromEngine, ToEngine>,
    private readonly stop: () => Promise<void>,
  ) {
    endpoint.onMessage((msg) => this.receive(msg));
  }

  run(jobId: string, task: EngineTask, options: RunOptions = {}): Promise<unknown> {
    if (this.pending.has(jobId)) return Promise.reject(new Error(`job ${jobId} is already running`));
    return new Promise((resolve, reject) => {
      this.pending.set(jobId, { resolve, reject, onProgress: options.onProgress });
      const cancel = () => this.endpoint.post({ type: 'cancel', jobId });
      options.signal?.addEventListener('abort', cancel, { once: true });
      this.endpoint.post({ type: 'run', jobId, task });
    });
  }

  /** Fails every job still waiting (the host died or is being stopped). */
  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  async dispose(): Promise<void> {
    await this.stop();
  }

  private receive(msg: FromEngine): void {
    if (msg.type === 'ready') return;
    const p = this.pending.get(msg.jobId);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress);
      return;
    }
    this.pending.delete(msg.jobId);
    if (msg.type === 'done') p.resolve(msg.result);
    else p.reject(fromFailure(msg.error));
  }
}
