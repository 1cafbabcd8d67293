import { EngineError } from '../engine-error.ts';
import type { EngineFailure } from './protocol.ts';

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
