import { t } from '../i18n/i18n.svelte.ts';
import type { GenerationJob } from './generation-queue.svelte.ts';

const KNOWN_STAGES = ['loading', 'encoding', 'denoising', 'decoding'] as const;
const isKnown = (stage: string): stage is (typeof KNOWN_STAGES)[number] =>
  (KNOWN_STAGES as readonly string[]).includes(stage);

/** The engine's stage names in the user's words; an unknown stage is shown as it comes. */
export function generationStageText(stage: string): string {
  if (isKnown(stage)) return t(`progress.stage.${stage}`);
  return stage ? stage[0]!.toUpperCase() + stage.slice(1) : t('progress.starting');
}

/**
 * What a screen reader hears about the job that is running: its stage, and its progress in quarters. The text
 * changes only when the stage changes or a quarter is passed, so a live region reads it a handful of times per
 * run, not at every step. Empty when nothing runs.
 */
export function progressAnnouncement(job: GenerationJob | null): string {
  if (!job || job.phase !== 'running') return '';
  const quarter = Math.floor((4 * job.step) / Math.max(1, job.total)) * 25;
  return t('announce.progress', { stage: generationStageText(job.stage), percent: quarter });
}

/**
 * What a screen reader hears when a run ends: once per finished job (the text names how many results History
 * holds, so two runs with the same prompt still read twice). Errors are not here: their banner is an alert.
 */
export function resultAnnouncement(jobs: readonly GenerationJob[], resultCount: number): string {
  const last = jobs.findLast((j) => j.phase === 'done' || j.phase === 'cancelled');
  if (!last) return '';
  if (last.phase === 'cancelled') return t('announce.cancelled', { label: last.label });
  return t('announce.done', { label: last.label, count: resultCount });
}
