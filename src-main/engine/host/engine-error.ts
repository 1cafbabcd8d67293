import type { EngineFailure } from './protocol.ts';

/** An engine failure with a code the UI can act on; survives the process boundary via toFailure/fromFailure. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: string,
    message: string,
    readonly detail?: Record<string, string | number | boolean>,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class CancelledError extends EngineError {
  constructor(what = 'the job') {
    super('cancelled', `${what} was cancelled`);
  }
}

export function toFailure(e: unknown): EngineFailure {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.name !== 'Error') {
    const detail = (e as { detail?: EngineFailure['detail'] }).detail;
    return detail ? { code: e.code, message: e.message, detail } : { code: e.code, message: e.message };
  }
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export function fromFailure(f: EngineFailure): EngineError {
  return new EngineError(f.code, f.message, f.detail);
}
