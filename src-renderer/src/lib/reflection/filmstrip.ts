import { t } from '../i18n/i18n.svelte.ts';
import type {
  ImageHash,
  ReflectionRound,
  ReflectionSession,
  ReflectionStage,
} from '../../../../src-main/ipc/contract.ts';

/** One card of a reflection job's filmstrip (reflection.md §4.7). */
export interface FilmstripCard {
  readonly round: ReflectionRound;
  /** 0 for the first image, +1 per revision along the parent links. */
  readonly depth: number;
  /** The live stage while this round works, else null. */
  readonly stage: ReflectionStage | null;
  readonly isBest: boolean;
  /** "5/6 checks", or "Not checked" before the round has a score (the live stage is shown beside it). */
  readonly checks: string;
  /** The action chip: "Edit: Make the car red", "Regenerate, seed 81723". */
  readonly action: string;
  /** The parent's output, for the before/after slider. */
  readonly before: ImageHash | null;
  /** What a screen reader says for the card. */
  readonly label: string;
}

/** The live stage in words, in the UI language. */
export const stageText = (stage: ReflectionStage): string => t(`reflect.stage.${stage}`);

export function actionText(round: ReflectionRound): string {
  if (round.mode === 'edit') return t('reflect.action.edit', { text: round.text });
  return t(round.mode === 'generate' ? 'reflect.action.generate' : 'reflect.action.regenerate', {
    seed: String(round.seed),
  });
}

/** The cards of a session in its stored order (parents first); `live` names the round working now and its stage. */
export function filmstrip(
  session: ReflectionSession,
  live: { roundId: string | null; stage: ReflectionStage | null } = { roundId: null, stage: null },
): FilmstripCard[] {
  const byId = new Map(session.rounds.map((r) => [r.id, r]));
  const depth = (r: ReflectionRound): number => {
    let d = 0;
    for (let p = r.parentId; p !== null && d <= session.rounds.length; p = byId.get(p)?.parentId ?? null) d++;
    return d;
  };
  return session.rounds.map((round) => {
    const stage = live.roundId === round.id ? live.stage : null;
    const isBest = session.bestRoundId === round.id;
    const checks = round.score
      ? t('reflect.checksScore', { passed: round.score.passed, total: round.score.total })
      : t('reflect.notChecked');
    const action = actionText(round);
    const d = depth(round);
    const failed = round.checklist.filter((c) => !c.passed).map((c) => c.question);
    const label = [
      t('reflect.round', { n: d }),
      checks,
      action,
      ...(stage ? [stageText(stage)] : []),
      ...(failed.length > 0 && round.score ? [t('reflect.failed', { questions: failed.join(' ') })] : []),
      ...(isBest ? [t('reflect.bestRound')] : []),
    ].join('. ');
    return {
      round,
      depth: d,
      stage,
      isBest,
      checks,
      action,
      before: round.parentId ? (byId.get(round.parentId)?.outputImage ?? null) : null,
      label,
    };
  });
}
