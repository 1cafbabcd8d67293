import { CancelledError } from '../cancellation.ts';
import { toFailure } from './failure.ts';
import type { EngineProgress, EngineTask, FromEngine, MessageEndpoint, ToEngine } from './protocol.ts';

/** Runs one task inside the engine host; reports progress and checks `signal` between units of work. */
export type TaskHandler = (task: EngineTask, ctx: TaskContext) => Promise<unknown>;
export interface TaskContext {
  signal: AbortSignal;
  progress(p: EngineProgress): void;
}

/**
 * The engine host's side: receives run/cancel messages and runs tasks one at a time in arrival order
 * (inference saturates the cores; running two jobs at once only makes both slower and doubles memory).
 */
export function serveEngine(endpoint: MessageEndpoint<ToEngine, FromEngine>, handle: TaskHandler): void {
  const controllers = new Map<string, AbortController>();
  let chain: Promise<void> = Promise.resolve();
  endpoint.onMessage((msg) => {
    if (msg.type === 'cancel') {
      controllers.get(msg.jobId)?.abort();
      return;
    }
    const controller = new AbortController();
    controllers.set(msg.jobId, controller);
    chain = chain.then(async () => {
      const { signal } = controller;
      try {
        if (signal.aborted) throw new CancelledError();
        const result = await handle(msg.task, {
          signal,
          progress: (progress) => endpoint.post({ type: 'progress', jobId: msg.jobId, progress }),
        });
        if (signal.aborted) throw new CancelledError();
        endpoint.post({ type: 'done', jobId: msg.jobId, result });
      } catch (e) {
        endpoint.post({
          type: 'failed',
          jobId: msg.jobId,
          error: toFailure(signal.aborted ? new CancelledError() : e),
        });
      } finally {
        controllers.delete(msg.jobId);
      }
    });
  });
  endpoint.post({ type: 'ready' });
}
