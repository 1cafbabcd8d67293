// The in-app judge of the evaluation (reflection.md §4.8): the same 3B MLLM as the critic, but asked differently,
// without being shown the request. Calibrate it against GenEval's official scorer before trusting it (README).
import type { RgbImage } from '../../src-main/engine/image/rgb-image.ts';
import type { ModelCritic } from '../../src-main/engine/pipeline/reflection.ts';
import type { EvalPrompt, JudgeQuestion } from './spec.ts';

export interface JudgedQuestion {
  readonly question: string;
  readonly passed: boolean;
  /** p(yes) for yes/no questions, the decoded reply for the others; null when not asked (its object was not seen). */
  readonly reply: number | string | null;
}

export interface Verdict {
  /** GenEval's strict accuracy for one image: every question passes. */
  readonly strict: boolean;
  readonly questions: readonly JudgedQuestion[];
}

const JUDGE_INTRO = 'Look at this picture.\n';

export async function judgeImage(
  critic: ModelCritic,
  image: RgbImage,
  prompt: EvalPrompt,
  questions: readonly JudgeQuestion[],
): Promise<Verdict> {
  const inspection = await critic.inspect({ prompt: prompt.prompt, result: image, source: null, intro: JUDGE_INTRO });
  try {
    const seen = new Map<number, boolean>();
    const judged: JudgedQuestion[] = [];
    for (const q of questions) {
      if (!q.existence && seen.get(q.object) === false) {
        judged.push({ question: q.question, passed: false, reply: null });
        continue;
      }
      const reply =
        q.kind === 'yes-no' ? await inspection.pYes(q.question) : await inspection.answer(q.question, q.maxTokens);
      const passed = q.kind === 'yes-no' ? (reply as number) >= 0.5 : q.accept(reply as string);
      if (q.existence) seen.set(q.object, passed);
      judged.push({ question: q.question, passed, reply });
    }
    return { strict: judged.every((j) => j.passed), questions: judged };
  } finally {
    inspection.release();
  }
}
