/**
 * The critic's side of the loop (reflection.md §4.3–4.4): what the loop asks of a critic, the critique wording,
 * p_yes from first-token logits, and the DSG-ordered scoring of a checklist. The MLLM implementation is
 * model-critic.ts; tests script this interface.
 */
import type { RgbImage } from '../../image/rgb-image.ts';
import type { ChecklistWriter } from './checklist.ts';
import type { Check, CheckResult, RoundScore } from './types.ts';

/** What a round's critique looks at: the result, and for edit jobs the source it was made from (§4.3). */
export interface CritiqueView {
  /** The user's original request, quoted in every critique turn. */
  readonly prompt: string;
  readonly result: RgbImage;
  readonly source: RgbImage | null;
  /** Replaces the request line (an evaluation judge asks without showing the request). */
  readonly intro?: string;
}

/** One image under critique; an implementation computes the shared image prefix once and reuses it (§4.3). */
export interface Inspection {
  /** P(yes) for a yes/no question about the result. */
  pYes(question: string, signal?: AbortSignal): Promise<number>;
  /** The raw reply to the fix request for these failed questions (§4.4), decoded greedily. */
  writeFix(failed: readonly string[], signal?: AbortSignal): Promise<string>;
  /** Drops what the inspection holds (the prefix KV cache). */
  release(): void;
}

export interface Critic extends ChecklistWriter {
  inspect(view: CritiqueView, signal?: AbortSignal): Promise<Inspection>;
}

/** The first line of the user turn after the image(s); shared by every question of a round (the cached prefix). */
export function critiqueIntro(view: {
  readonly prompt: string;
  readonly source: unknown;
  readonly intro?: string;
}): string {
  if (view.intro !== undefined) return view.intro;
  return view.source === null
    ? `This picture was generated from the request: "${view.prompt}".\n`
    : `Image 1 is the original picture. Image 2 is the result of editing it with the request: "${view.prompt}". ` +
        'The questions are about image 2.\n';
}

export const questionTurn = (question: string) => `${question} Answer Yes or No.`;

/** §4.4's fix request (after the same system turn, image(s) and intro). */
export function fixRequest(failed: readonly string[]): string {
  return (
    `These checks failed:\n${failed.map((q) => `- ${q}`).join('\n')}\n` +
    'Write ONE instruction that fixes the picture. Start with Add, Remove, Replace, Change, Move or Make.\n' +
    'At most 25 words. Do not mention what is already correct. Reply exactly as:\nEDIT: <instruction>'
  );
}

/** The first-token ids of the answer forms (§4.3: Yes, yes, No, no), with the image-generation token left out. */
export interface AnswerTokens {
  readonly yes: readonly number[];
  readonly no: readonly number[];
}

/** §4.3: p_yes = Σ softmax over {Yes, yes, No, no} of the yes forms, from the first answer position's logits. */
export function yesProbability(logits: ArrayLike<number>, tokens: AnswerTokens): number {
  const all = [...tokens.yes, ...tokens.no];
  const max = Math.max(...all.map((id) => logits[id]!));
  const weight = (id: number) => Math.exp(logits[id]! - max);
  const yes = tokens.yes.reduce((s, id) => s + weight(id), 0);
  const total = all.reduce((s, id) => s + weight(id), 0);
  return yes / total;
}

/**
 * Scores a checklist against one inspection (§4.3–4.4): object checks first; a check whose object check failed
 * is not asked and counts as failed (DSG, §4.2). A check passes when p_yes ≥ τ.
 */
export async function scoreChecks(
  inspection: Inspection,
  checks: readonly Check[],
  threshold: number,
  signal?: AbortSignal,
): Promise<CheckResult[]> {
  const results = new Array<CheckResult>(checks.length);
  const order = [...checks.keys()].sort(
    (a, b) => Number(checks[a]!.dependsOn.length > 0) - Number(checks[b]!.dependsOn.length > 0),
  );
  for (const i of order) {
    const check = checks[i]!;
    if (check.dependsOn.some((d) => results[d] !== undefined && !results[d].passed)) {
      results[i] = { check, pYes: null, passed: false };
      continue;
    }
    const pYes = await inspection.pYes(check.question, signal);
    results[i] = { check, pYes, passed: pYes >= threshold };
  }
  return results;
}

/** The §4.6 ranking values of a critiqued round. */
export function scoreOf(results: readonly CheckResult[]): RoundScore {
  const passed = results.filter((r) => r.passed).length;
  const meanPYes = results.length === 0 ? 0 : results.reduce((s, r) => s + (r.pYes ?? 0), 0) / results.length;
  return { passed, total: results.length, meanPYes };
}
