import { formatFixed, t } from '../i18n/i18n.svelte.ts';
import type { IpcError } from '../../../../src-main/ipc/contract.ts';

/** A message for people: what happened, the facts main sent, and the next step to take. */
export interface Notice {
  title: string;
  detail: string;
  next: string;
}

/** @param doing what the user was doing, e.g. "Generating", prefixed to the title. */
export function describeError(error: IpcError, doing?: string): Notice {
  const title = doing
    ? t('error.while', { doing, what: t(`error.title.${error.code}`).toLowerCase() })
    : t(`error.title.${error.code}`);
  return { title, detail: sentence(error.message), next: nextStep(error) };
}

function nextStep(error: IpcError): string {
  const d = error.detail ?? {};
  if (error.code === 'disk-full' && typeof d.neededBytes === 'number' && typeof d.freeBytes === 'number') {
    return t('error.diskNeeds', {
      needed: formatBytes(d.neededBytes),
      free: formatBytes(d.freeBytes),
      next: t('error.next.disk-full'),
    });
  }
  return t(`error.next.${error.code}`);
}

function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return '';
  return text[0]!.toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

/** Decimal units, as file managers and disk vendors count (the models service does the same); digits in the UI language. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  for (; v >= 1000 && i < units.length - 1; i++) v /= 1000;
  return `${formatFixed(v, i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('duration.s', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('duration.ms', { m, s: String(s % 60).padStart(2, '0') });
  return t('duration.hm', { h: Math.floor(m / 60), m: String(m % 60).padStart(2, '0') });
}
