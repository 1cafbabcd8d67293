import type { IpcError, IpcErrorCode } from '../../../../src-main/ipc/contract.ts';

/** What went wrong in plain words, and the next step to take. Exhaustive over the contract's codes. */
const NEXT_STEP: Record<IpcErrorCode, string> = {
  'invalid-request': 'Check the values you entered and try again.',
  'not-found': 'The item no longer exists. Refresh the view or choose another one.',
  cancelled: 'Nothing was changed. Start again when you are ready.',
  busy: 'Wait for the current job to finish, or cancel it.',
  'model-missing': 'Open Models to download or import the model.',
  'model-damaged': 'Open Models and run Verify; damaged files will be downloaded again.',
  'out-of-memory': 'Choose a smaller size or a lower-memory mode in Settings.',
  'disk-full': 'Free some disk space, or choose another folder, and try again.',
  network: 'Check your connection. Downloads resume where they stopped.',
  'corrupt-file': 'The file is damaged. Use a backup or the recovered copy.',
  'from-future': 'This file was made by a newer Atelier. Update Atelier to open it.',
  'read-only': 'Choose a folder you can write to.',
  unsupported: 'This is not available on this computer.',
  internal: 'Something unexpected happened. Try again; if it persists, report it with the details.',
};

export function describeError(error: IpcError): { title: string; next: string } {
  return { title: error.message, next: NEXT_STEP[error.code] };
}
