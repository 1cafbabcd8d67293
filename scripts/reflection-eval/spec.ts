// The evaluation prompts (prompts.jsonl, GenEval's metadata schema) and what is asked about them: the critic's
// checklist, generated from the structured fields (reflection.md §4.8), and the judge's questions, phrased
// differently so the judge does not simply repeat the critic.
import { readFileSync } from 'node:fs';
import {
  colorQuestion,
  countQuestion,
  objectQuestion,
  positionQuestion,
  type CheckSpec,
  type Relation,
} from '../../src-main/engine/pipeline/reflection.ts';
import {
  GENEVAL_COLORS,
  article,
  isColor,
  parseCount,
  pluralize,
} from '../../src-main/engine/pipeline/reflection/words.ts';

export type EvalTag = 'single_object' | 'two_object' | 'counting' | 'colors' | 'position' | 'color_attr';
export const EVAL_TAGS: readonly EvalTag[] = [
  'single_object',
  'two_object',
  'counting',
  'colors',
  'position',
  'color_attr',
];

/** One object the image must (include) or must not (exclude) hold, as in GenEval's evaluation_metadata.jsonl. */
export interface EvalObject {
  readonly class: string;
  readonly count: number;
  readonly color?: string;
  /** [relation, index of the include it is relative to]. */
  readonly position?: readonly [Relation, number];
}

export interface EvalPrompt {
  readonly tag: EvalTag;
  readonly prompt: string;
  readonly include: readonly EvalObject[];
  readonly exclude?: readonly EvalObject[];
}

const RELATIONS: readonly Relation[] = ['left of', 'right of', 'above', 'below'];

/** Reads prompts.jsonl, rejecting lines that do not fit the schema (a typo would silently weaken the benchmark). */
export function loadPrompts(path: string): EvalPrompt[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const p = JSON.parse(line) as EvalPrompt;
      const bad = (why: string) => new Error(`${path}:${i + 1}: ${why}`);
      if (!EVAL_TAGS.includes(p.tag)) throw bad(`unknown tag ${JSON.stringify(p.tag)}`);
      if (typeof p.prompt !== 'string' || !Array.isArray(p.include) || p.include.length === 0)
        throw bad('needs a prompt and at least one include');
      for (const o of p.include) {
        if (typeof o.class !== 'string' || !Number.isInteger(o.count) || o.count < 1)
          throw bad(`bad include ${JSON.stringify(o)}`);
        if (o.color !== undefined && !(GENEVAL_COLORS as readonly string[]).includes(o.color))
          throw bad(`colour ${o.color} is not one of GenEval's ten`);
        if (o.position && (!RELATIONS.includes(o.position[0]) || p.include[o.position[1]] === undefined))
          throw bad(`bad position ${JSON.stringify(o.position)}`);
      }
      return p;
    });
}

/** The critic's checklist, deterministic from the fields: objects, counts, colours, positions (the §4.2 templates). */
export function criticChecks(p: EvalPrompt): CheckSpec[] {
  const checks: CheckSpec[] = p.include.map((o) => ({ tag: 'object', question: objectQuestion(o.class) }));
  for (const o of p.include)
    if (o.count > 1) checks.push({ tag: 'count', question: countQuestion(o.count, pluralize(o.class)) });
  for (const o of p.include) {
    if (o.color && isColor(o.color))
      checks.push({
        tag: 'color',
        question:
          o.count > 1 ? colorQuestion(pluralize(o.class), o.color, true) : colorQuestion(o.class, o.color, false),
      });
  }
  for (const o of p.include) {
    if (o.position)
      checks.push({
        tag: 'position',
        question: positionQuestion(o.class, o.position[0], p.include[o.position[1]]!.class),
      });
  }
  return checks;
}

/** A judge question: answered by p(yes) ≥ 0.5 (the critic's turn adds "Answer Yes or No."), or by a short decoded reply that `accept` reads. */
export type JudgeQuestion = { readonly object: number; readonly question: string; readonly existence: boolean } & (
  | { readonly kind: 'yes-no' }
  | { readonly kind: 'answer'; readonly maxTokens: number; readonly accept: (reply: string) => boolean }
);

const JUDGE_RELATION: Record<Relation, string> = {
  'left of': 'on the left side of',
  'right of': 'on the right side of',
  above: 'higher up than',
  below: 'lower down than',
};

/** The first number in a reply, as digits or a word ("3", "Three.", "There are three"). */
export function readNumber(reply: string): number | null {
  for (const word of reply.toLowerCase().match(/[a-z]+|\d+/g) ?? []) {
    const n = parseCount(word);
    if (n !== null && word !== 'a' && word !== 'an') return n;
  }
  return null;
}

/** The first GenEval colour named in a reply. */
export function readColor(reply: string): string | null {
  return (
    (reply.toLowerCase().match(/[a-z]+/g) ?? []).find((w) => (GENEVAL_COLORS as readonly string[]).includes(w)) ?? null
  );
}

/**
 * §4.8: judge questions worded unlike the critic's; counts are asked as "How many X? Answer with a number." so an
 * exact count (GenEval's include + exclude) is checked, not agreement with a leading question. `object` is the
 * include each question is about: when that object is not seen, its other questions fail unasked.
 */
export function judgeQuestions(p: EvalPrompt): JudgeQuestion[] {
  const questions: JudgeQuestion[] = p.include.map((o, i) => ({
    kind: 'yes-no',
    object: i,
    existence: true,
    question: `Can you see ${article(o.class)} ${o.class} in this image?`,
  }));
  p.include.forEach((o, i) => {
    const exact = o.count > 1 || (p.exclude ?? []).some((x) => x.class === o.class);
    if (exact) {
      questions.push({
        kind: 'answer',
        object: i,
        existence: false,
        question: `How many ${pluralize(o.class)} are in this image? Answer with a number.`,
        maxTokens: 4,
        accept: (r) => readNumber(r) === o.count,
      });
    }
    if (o.color) {
      questions.push({
        kind: 'answer',
        object: i,
        existence: false,
        question: `What color is the ${o.class}? Answer with one word.`,
        maxTokens: 4,
        accept: (r) => readColor(r) === o.color,
      });
    }
    if (o.position) {
      const other = p.include[o.position[1]]!.class;
      questions.push({
        kind: 'yes-no',
        object: i,
        existence: false,
        question: `In this image, is the ${o.class} ${JUDGE_RELATION[o.position[0]]} the ${other}?`,
      });
    }
  });
  return questions;
}
