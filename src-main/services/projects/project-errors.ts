import type { IpcErrorCode } from '../../ipc/contract.ts';

/** The IPC codes a project operation can fail with; toIpcError passes them through unchanged. */
export type ProjectErrorCode = Extract<
  IpcErrorCode,
  'not-found' | 'corrupt-file' | 'from-future' | 'read-only' | 'disk-full' | 'invalid-request' | 'unsupported'
>;

/** The finer cause behind a code, sent as `detail.reason` so the UI can say exactly what is wrong. */
export type ProjectErrorReason =
  | 'no-file' // nothing at the path (or its folder is missing)
  | 'not-a-project' // no .atelier signature
  | 'truncated' // shorter than its header says
  | 'trailing-data' // longer than its header says
  | 'bad-header' // header values that cannot describe any file
  | 'checksum-mismatch' // bytes changed after they were written
  | 'bad-manifest' // the JSON is unreadable or breaks the schema
  | 'missing-image' // an image is referenced but not stored (or not supplied)
  | 'wrong-hash' // supplied image bytes do not hash to the name they came with
  | 'newer-format' // written by a newer Atelier
  | 'read-only' // the location refuses writes
  | 'no-permission' // the file cannot be read
  | 'disk-full'
  | 'untitled' // save without a path: use save as
  | 'bad-name' // a file name that is not a plain name
  | 'not-png'
  | 'bad-png' // a PNG whose chunk stream is damaged
  | 'no-recipe' // a PNG without an Atelier recipe
  | 'bad-recipe'
  | 'no-recovery'; // the recovery file is gone

export class ProjectError extends Error {
  override readonly name = 'ProjectError';
  /** Read by toIpcError and sent to the renderer: the reason plus facts such as the path or the image hash. */
  readonly detail: Record<string, string | number | boolean>;

  constructor(
    readonly code: ProjectErrorCode,
    readonly reason: ProjectErrorReason,
    message: string,
    facts: Record<string, string | number | boolean> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.detail = { reason, ...facts };
  }
}

/**
 * Turns a file-system failure into a ProjectError the user can act on. Unknown errors are returned unchanged,
 * so they still reach the caller (and are logged as 'internal').
 */
export function fromFsError(e: unknown, path: string, action: 'read' | 'write'): unknown {
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const facts = { path };
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return action === 'read'
        ? new ProjectError('not-found', 'no-file', `no file at ${path}`, facts, { cause: e })
        : new ProjectError('not-found', 'no-file', `cannot write ${path}: its folder does not exist`, facts, {
            cause: e,
          });
    case 'ENOSPC':
    case 'EDQUOT':
      return new ProjectError(
        'disk-full',
        'disk-full',
        `not enough disk space to write ${path}; the previous file is unchanged`,
        facts,
        { cause: e },
      );
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return action === 'read'
        ? new ProjectError('read-only', 'no-permission', `no permission to read ${path}`, facts, { cause: e })
        : new ProjectError(
            'read-only',
            'read-only',
            `cannot write to ${path}: the location is read-only; the previous file is unchanged`,
            facts,
            { cause: e },
          );
    default:
      return e;
  }
}
