/**
 * The loop's decisions (reflection.md §4.5–4.6, §4.9): edit or regenerate, the regeneration prompt recomputed from
 * the original each round, when to stop, and which round to deliver. Pure functions over round summaries.
 */
import { statementOf } from './check-templates.ts';
import type { CheckResult, CheckTag, ForcedMode, RoundMode, RoundScore, StopReason } from './types.ts';
import { capitalize } from './words.ts';

/** What the decisions need to know about an earlier round on the path from round 0. */
export interface PathRound {
  readonly mode: RoundMode;
  readonly text: string;
  readonly results: readonly CheckResult[];
  readonly score: RoundScore | null;
  readonly escalated: boolean;
}

export type Plan = { readonly mode: 'edit' | 'regenerate'; readonly escalated: boolean };

/** §4.9: editing accumulates artefacts, so at most two edits in a row. */
export const MAX_EDITS_IN_A_ROW = 2;
/** §4.5: "the same edit failed twice". */
export const MAX_SAME_EDIT = 2;
/** §4.6 (c): mean p_yes must rise this much (at equal passes) to count as progress … */
export const MIN_GAIN = 0.05;
/** … within this many consecutive rounds. */
export const STALE_ROUNDS = 2;

const LAYOUT_TAGS: ReadonlySet<CheckTag> = new Set(['count', 'position', 'style']);

/** Checks that were asked and failed: the failures themselves, not the checks skipped because of them. */
const rootFailures = (results: readonly CheckResult[]) => results.filter((r) => !r.passed && r.pYes !== null);

/**
 * §4.5's table: local failures (colour, attribute, text, one missing or extra object) are edited; counts,
 * positions, style/composition, several missing objects or ≥ 3 failures need a fresh layout.
 */
export function preferredMode(results: readonly CheckResult[]): 'edit' | 'regenerate' {
  const roots = rootFailures(results);
  if (roots.length === 0 || roots.length >= 3) return 'regenerate';
  if (roots.some((r) => LAYOUT_TAGS.has(r.check.tag))) return 'regenerate';
  return roots.filter((r) => r.check.tag === 'object').length >= 2 ? 'regenerate' : 'edit';
}

function editsInARow(path: readonly PathRound[]): number {
  let n = 0;
  for (let i = path.length - 1; i >= 0 && path[i]!.mode === 'edit'; i--) n++;
  return n;
}

const normalise = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[.!\s]+$/, '')
    .replace(/\s+/g, ' ');

/**
 * The mode of the next round before its fix is known. 'edit' still awaits `confirmEdit` with the instruction.
 * @param path round 0 … the parent, in order
 */
export function planRevision(results: readonly CheckResult[], path: readonly PathRound[], forced: ForcedMode): Plan {
  if (forced !== 'auto') return { mode: forced, escalated: false };
  if (preferredMode(results) === 'regenerate') return { mode: 'regenerate', escalated: false };
  return editsInARow(path) >= MAX_EDITS_IN_A_ROW
    ? { mode: 'regenerate', escalated: true }
    : { mode: 'edit', escalated: false };
}

/** An edit whose instruction already failed twice on this path escalates to Regenerate (§4.5), unless forced. */
export function confirmEdit(instruction: string, path: readonly PathRound[], forced: ForcedMode): Plan {
  if (forced === 'edit') return { mode: 'edit', escalated: false };
  const tries = path.filter((r) => r.mode === 'edit' && normalise(r.text) === normalise(instruction)).length;
  return tries >= MAX_SAME_EDIT ? { mode: 'regenerate', escalated: true } : { mode: 'edit', escalated: false };
}

/**
 * The regeneration prompt (§4.5): the ORIGINAL prompt + ". " + corrective clauses for the checks failing now,
 * never built on an earlier revised prompt (that drifts).
 */
export function regenerationPrompt(original: string, results: readonly CheckResult[]): string {
  const clauses = [...new Set(results.filter((r) => !r.passed).flatMap((r) => statementOf(r.check.question) ?? []))];
  const anchor = original.trim().replace(/[.\s]+$/, '');
  return clauses.length === 0 ? original.trim() : `${anchor}. ${capitalize(clauses.join(', '))}.`;
}

/** A fresh seed per round (§4.5 "new seed"), reproducible from the job's seed. */
export const roundSeed = (base: number, index: number) => (base + index) >>> 0;

/** (passes, mean p_yes) ordering of §4.6: positive when `a` ranks above `b`. */
export function compareScores(a: RoundScore, b: RoundScore): number {
  return a.passed - b.passed || a.meanPYes - b.meanPYes;
}

/** §4.6: the best-scoring round is delivered, not the last; ties go to the earlier round. */
export function bestRound<T extends { readonly score: RoundScore | null }>(rounds: readonly T[]): T | null {
  let best: T | null = null;
  for (const r of rounds) if (r.score && (!best || compareScores(r.score, best.score!) > 0)) best = r;
  return best;
}

/** §4.6 (c): tracks whether the best score keeps improving. */
export class ProgressTracker {
  private stale = 0;
  constructor(private best: RoundScore | null = null) {}

  observe(score: RoundScore): void {
    const b = this.best;
    const improved =
      !b || score.passed > b.passed || (score.passed === b.passed && score.meanPYes >= b.meanPYes + MIN_GAIN);
    if (improved) {
      this.best = score;
      this.stale = 0;
    } else this.stale++;
  }

  get stalled(): boolean {
    return this.stale >= STALE_ROUNDS;
  }
}

const failingSet = (results: readonly CheckResult[]) =>
  results
    .filter((r) => !r.passed)
    .map((r) => r.check.question)
    .sort()
    .join('\n');

/**
 * §4.6 after a round was critiqued: (a) done, (b) revisions used up, (c) no progress, (d) the failing set repeats
 * after an escalation to Regenerate. User accept/cancel (e) is the loop's business.
 */
export function stopAfter(
  round: PathRound,
  parent: PathRound | null,
  o: { revisions: number; maxRevisions: number; progress: ProgressTracker },
): StopReason | null {
  if (round.results.every((r) => r.passed)) return 'done';
  if (o.revisions >= o.maxRevisions) return 'max-rounds';
  if (o.progress.stalled) return 'no-progress';
  if (round.escalated && parent && failingSet(round.results) === failingSet(parent.results)) return 'repeated-failures';
  return null;
}
