import type { IpcError, IpcErrorCode } from '../../ipc/contract.ts';

/** What went wrong with a model operation; the UI and the CLI switch on it. */
export type ModelErrorCode =
  | 'network' // connection refused/reset, 5xx after all retries, a response that ended early
  | 'stalled' // no byte arrived for the watchdog's interval
  | 'unauthorized' // 401/403: a gated or private repository needs an access token
  | 'not-found' // repository, revision, file or folder does not exist
  | 'bad-response' // the server answered something the hub protocol does not allow
  | 'checksum-mismatch' // bytes on disk differ from the listing's size/sha256/git oid
  | 'disk-full' // not enough free space, before starting or while writing
  | 'read-only' // the models folder cannot be written
  | 'cancelled' // paused or cancelled by the user
  | 'busy' // another download of the same model is running (this or another process)
  | 'invalid-request' // a malformed repository id, revision or folder
  | 'corrupt' // the registry file cannot be parsed
  | 'incomplete'; // the model's download is paused or unfinished

const RETRYABLE: ReadonlySet<ModelErrorCode> = new Set(['network', 'stalled']);

const IPC_CODE: Record<ModelErrorCode, IpcErrorCode> = {
  network: 'network',
  stalled: 'network',
  unauthorized: 'network',
  'bad-response': 'network',
  'not-found': 'not-found',
  'checksum-mismatch': 'model-damaged',
  'disk-full': 'disk-full',
  'read-only': 'read-only',
  cancelled: 'cancelled',
  busy: 'busy',
  'invalid-request': 'invalid-request',
  corrupt: 'corrupt-file',
  incomplete: 'model-missing',
};

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
    /** Facts for the UI (needed/free bytes, HTTP status, file path); never a token. */
    readonly detail: Record<string, string | number | boolean> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }

  /** The shared IPC code, with the precise model code kept in `detail.reason`. */
  get ipcCode(): IpcErrorCode {
    return IPC_CODE[this.code];
  }
}

/** File-system failures that the user can act on become typed errors; anything else is rethrown unchanged. */
export function fromFsError(e: unknown, path: string, doing: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new ModelError('disk-full', `disk full while ${doing} ${path}`, { path }, { cause: e });
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new ModelError('read-only', `cannot write ${path} (${code}) while ${doing}`, { path }, { cause: e });
  }
  if (code === 'ENOENT') return new ModelError('not-found', `${path} does not exist`, { path }, { cause: e });
  return e;
}

export const cancelled = (what: string): ModelError => new ModelError('cancelled', `${what} was stopped`);

/** The error as the UI receives it; the registry stores the same shape for a paused or damaged model. */
export function describeModelError(e: unknown): IpcError {
  if (e instanceof ModelError) return { code: e.ipcCode, message: e.message, detail: { ...e.detail, reason: e.code } };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}
