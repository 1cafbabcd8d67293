import { EngineError } from './engine-error.ts';

/** A job stopped because its caller asked; every layer checks its signal between units of work and throws this. */
export class CancelledError extends EngineError {
  constructor(what = 'the job') {
    super('cancelled', `${what} was cancelled`);
  }
}

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}
