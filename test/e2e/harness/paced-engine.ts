import type { Engine } from '../../../src-main/engine/host/engine-client.ts';
import { CancelledError } from '../../../src-main/engine/cancellation.ts';

/** Lets the pieces of a chat answer through a few at a time, as the test says (see gatedChat). */
export class PieceGate {
  #credits = Number.POSITIVE_INFINITY;
  #waiters: (() => void)[] = [];

  /** Lets `n` more pieces through, then holds the rest. */
  allow(n: number): void {
    this.#credits = n;
    this.#wake();
  }

  open(): void {
    this.allow(Number.POSITIVE_INFINITY);
  }

  /** Resolves when the next piece may go, or when `signal` aborts (then the piece is dropped). */
  async pass(signal: AbortSignal | undefined): Promise<boolean> {
    while (this.#credits <= 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    if (signal?.aborted) return false;
    this.#credits--;
    return true;
  }

  #wake(): void {
    this.#waiters.splice(0).forEach((resolve) => resolve());
  }
}

/**
 * The engine with each chat answer's pieces passed through `gate`: the tiny model writes its 256 tokens in a
 * fraction of a second, too fast for a test acting like a person to watch the stream or stop it midway, and any
 * timing would make the verdict depend on the machine. Every piece is the engine's own, in order; only its
 * delivery waits for the gate, and the answer ends after its last piece. Stopping while pieces are held ends the
 * job as cancelled, as a stop during a long real answer does.
 */
export function gatedChat(engine: Engine, gate: PieceGate): Engine {
  return {
    async run(jobId, task, options = {}) {
      if (task.kind !== 'chat') return engine.run(jobId, task, options);
      let delivered = Promise.resolve();
      const value = await engine.run(jobId, task, {
        ...options,
        onProgress: (p) => {
          if (!p.report) {
            options.onProgress?.(p);
            return;
          }
          delivered = delivered.then(async () => {
            if (await gate.pass(options.signal)) options.onProgress?.(p);
          });
        },
      });
      await delivered;
      if (options.signal?.aborted) throw new CancelledError('the answer');
      return value;
    },
    dispose: () => engine.dispose(),
  };
}
