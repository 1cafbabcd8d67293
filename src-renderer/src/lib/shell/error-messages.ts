import type { IpcError, IpcErrorCode } from '../../../../src-main/ipc/contract.ts';

/** A message for people: what happened, the facts main sent, and the next step to take. */
export interface Notice {
  title: string;
  detail: string;
  next: string;
}

const TITLE: Record<IpcErrorCode, string> = {
  'invalid-request': 'Some values were not accepted',
  'not-found': 'It is no longer there',
  cancelled: 'Stopped',
  busy: 'Atelier is busy',
  'model-missing': 'The model is not installed',
  'model-damaged': 'Some model files are damaged',
  'out-of-memory': 'Not enough memory',
  'disk-full': 'Not enough disk space',
  network: 'The connection failed',
  'corrupt-file': 'The file is damaged',
  'from-future': 'Made by a newer version of Atelier',
  'read-only': 'That folder cannot be written to',
  unsupported: 'Not available in this build',
  internal: 'Something unexpected happened',
};

/** Exhaustive over the contract's codes: a new code fails to compile until it has a next step. */
const NEXT_STEP: Record<IpcErrorCode, string> = {
  'invalid-request': 'Check the values you entered and try again.',
  'not-found': 'Refresh the view or choose another item.',
  cancelled: 'Nothing was changed. Start again when you are ready.',
  busy: 'Wait for the current job to finish, or cancel it.',
  'model-missing': 'Open Models to download OmniGen2 or import a copy you already have.',
  'model-damaged': 'Open Models and run Verify; damaged files are downloaded again.',
  'out-of-memory': 'Choose a smaller size, fewer images, or a lower-memory mode in Settings.',
  'disk-full': 'Free some disk space, or choose another models folder, and try again.',
  network: 'Check your connection and try again. Downloads resume where they stopped.',
  'corrupt-file': 'Use a backup or the recovered copy of the file.',
  'from-future': 'Update Atelier to open it.',
  'read-only': 'Choose a folder you can write to.',
  unsupported: 'This feature is not available on this computer or in this build yet.',
  internal: 'Try again; if it keeps happening, report it with the details shown here.',
};

/** @param doing what the user was doing, e.g. "Generating", prefixed to the title. */
export function describeError(error: IpcError, doing?: string): Notice {
  const title = doing ? `${doing}: ${TITLE[error.code].toLowerCase()}` : TITLE[error.code];
  return { title, detail: sentence(error.message), next: nextStep(error) };
}

function nextStep(error: IpcError): string {
  const d = error.detail ?? {};
  if (error.code === 'disk-full' && typeof d.neededBytes === 'number' && typeof d.freeBytes === 'number') {
    return `It needs ${formatBytes(d.neededBytes)} and ${formatBytes(d.freeBytes)} is free. ${NEXT_STEP['disk-full']}`;
  }
  return NEXT_STEP[error.code];
}

function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return '';
  return text[0]!.toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

/** Decimal units, as file managers and disk vendors count (the models service does the same). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  for (; v >= 1000 && i < units.length - 1; i++) v /= 1000;
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
