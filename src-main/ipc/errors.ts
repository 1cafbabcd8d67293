import type { IpcError, IpcErrorCode } from './contract.ts';

const KNOWN: ReadonlySet<IpcErrorCode> = new Set<IpcErrorCode>([
  'invalid-request',
  'not-found',
  'cancelled',
  'busy',
  'model-missing',
  'model-damaged',
  'out-of-memory',
  'disk-full',
  'network',
  'corrupt-file',
  'from-future',
  'read-only',
  'unsupported',
  'internal',
]);

/** Domain error codes that map onto a shared IPC code. */
const ALIASES: Record<string, IpcErrorCode> = {
  ENOSPC: 'disk-full',
  EROFS: 'read-only',
  EACCES: 'read-only',
  EPERM: 'read-only',
  ENOENT: 'not-found',
  truncated: 'corrupt-file',
  'bad-header': 'corrupt-file',
  'bad-offsets': 'corrupt-file',
  'unknown-dtype': 'corrupt-file',
  'missing-tensor': 'model-damaged',
  'wrong-shape': 'model-damaged',
  'wrong-dtype': 'model-damaged',
  'bad-index': 'model-damaged',
  corrupt: 'corrupt-file',
  unreadable: 'corrupt-file',
  'bad-png': 'corrupt-file',
  'bad-size': 'invalid-request',
};

/**
 * The single place where a thrown error becomes data for the renderer (Electron would keep only the message).
 * Known codes pass through; anything else is reported as 'internal' and logged by the caller.
 */
export function toIpcError(e: unknown): IpcError {
  if (e instanceof Error) {
    // Domain errors that know their IPC code carry it as `ipcCode` (their own `code` is finer-grained).
    const ipcCode = (e as { ipcCode?: unknown }).ipcCode;
    const raw = typeof ipcCode === 'string' ? ipcCode : (e as { code?: unknown }).code;
    const detail = (e as { detail?: IpcError['detail'] }).detail;
    const code =
      typeof raw === 'string' ? (KNOWN.has(raw as IpcErrorCode) ? (raw as IpcErrorCode) : ALIASES[raw]) : undefined;
    if (code) return detail ? { code, message: e.message, detail } : { code, message: e.message };
    return { code: 'internal', message: e.message };
  }
  return { code: 'internal', message: String(e) };
}
