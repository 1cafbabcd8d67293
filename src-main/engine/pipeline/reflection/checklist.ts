/**
 * The job's checklist (reflection.md §4.2): templated GenEval-style prompts are parsed deterministically; any other
 * prompt gets one text-only MLLM call with a fixed template whose reply is parsed line by line; if that yields
 * nothing, one whole-picture check stands in.
 */
import {
  colorQuestion,
  countQuestion,
  objectNoun,
  objectQuestion,
  positionQuestion,
  type Relation,
} from './check-templates.ts';
import { CHECK_TAGS, type Check, type CheckSpec, type CheckTag, type ChecklistSource } from './types.ts';
import { isColor, parseCount, pluralize, singularize, type GenevalColor } from './words.ts';

/** §4.2: 2–8 checks. */
export const MAX_CHECKS = 8;

interface Phrase {
  readonly count: number;
  readonly color: GenevalColor | null;
  /** Singular. */
  readonly noun: string;
}

const LEAD = /^(?:a |an )?(?:photo|picture|image|drawing|painting|rendering|render) of (.+?)\.?$/i;
const RELATION = /^(.+?) (?:(?:to|on) the )?(left of|right of|above|below) (.+)$/i;
/** Count word, optional GenEval colour, a noun of one or two words. */
const PHRASE = /^(\S+) (?:(\S+) )?([a-z]+(?: [a-z]+)?)$/i;

function parsePhrase(text: string): Phrase | null {
  const m = PHRASE.exec(text.trim());
  if (!m) return null;
  const count = parseCount(m[1]!);
  if (count === null) return null;
  const maybeColor = m[2]?.toLowerCase() ?? null;
  // "a red cup": colour + noun; "a hot dog": no colour, two-word noun; "a cute red dog" fails (not templated).
  const color = maybeColor !== null && isColor(maybeColor) ? maybeColor : null;
  if (maybeColor !== null && color === null) {
    if (m[3]!.includes(' ')) return null;
    return { count, color: null, noun: toSingular(`${maybeColor} ${m[3]!.toLowerCase()}`, count) };
  }
  return { count, color, noun: toSingular(m[3]!.toLowerCase(), count) };
}

const toSingular = (noun: string, count: number) => (count > 1 ? singularize(noun) : noun);

/**
 * Deterministic checks for GenEval-style prompts ("a photo of three red cups", "a photo of a dog left of a cup",
 * "a photo of a red cup and a blue dog"): objects, then counts, colours and the position. Null when the prompt
 * is not in that form, so the caller asks the MLLM instead.
 */
export function parseTemplatedPrompt(prompt: string): Check[] | null {
  const body = LEAD.exec(prompt.trim())?.[1];
  if (body === undefined) return null;
  const relation = RELATION.exec(body);
  const parts = relation ? [relation[1]!, relation[3]!] : body.split(/\s*,\s*(?:and\s+)?|\s+and\s+/);
  if (parts.length > 4) return null;
  const phrases = parts.map(parsePhrase);
  if (phrases.some((p) => p === null)) return null;
  const objects = phrases as Phrase[];
  if (relation && objects.some((p) => p.count !== 1)) return null;

  const checks: Check[] = objects.map((p) => ({ question: objectQuestion(p.noun), tag: 'object', dependsOn: [] }));
  objects.forEach((p, i) => {
    if (p.count > 1) checks.push({ question: countQuestion(p.count, pluralize(p.noun)), tag: 'count', dependsOn: [i] });
  });
  objects.forEach((p, i) => {
    if (p.color) {
      const many = p.count > 1;
      checks.push({
        question: colorQuestion(many ? pluralize(p.noun) : p.noun, p.color, many),
        tag: 'color',
        dependsOn: [i],
      });
    }
  });
  if (relation) {
    const rel = relation[2]!.toLowerCase() as Relation;
    checks.push({
      question: positionQuestion(objects[0]!.noun, rel, objects[1]!.noun),
      tag: 'position',
      dependsOn: [0, 1],
    });
  }
  return checks.slice(0, MAX_CHECKS);
}

/** The fixed text-only request for free-form prompts (§4.2). */
export function checklistRequest(prompt: string): string {
  return (
    `List yes/no questions that check whether a picture matches this request. One per line as \`TAG | question\`, ` +
    `where TAG is one of ${CHECK_TAGS.join(', ')}. Only things the request states.\nRequest: "${prompt}"`
  );
}

const CHECK_LINE = /^(object|count|color|attribute|position|text|style)\s*\|\s*(.+\?)$/i;

/** Lines of the form `TAG | question?` (§4.2), list bullets tolerated, others dropped; duplicates removed; at most 8. */
export function parseChecklistReply(raw: string): CheckSpec[] {
  const specs: CheckSpec[] = [];
  for (const line of raw.split(/\r?\n/)) {
    const m = CHECK_LINE.exec(
      line
        .trim()
        .replace(/^(?:[-*•]|\d+[.)])\s*/, '')
        .replace(/`/g, ''),
    );
    if (!m) continue;
    const question = m[2]!.trim();
    if (specs.some((s) => s.question.toLowerCase() === question.toLowerCase())) continue;
    specs.push({ tag: m[1]!.toLowerCase() as CheckTag, question });
    if (specs.length === MAX_CHECKS) break;
  }
  return specs;
}

/**
 * DSG dependencies for checks given as plain questions (the MLLM's, or the user's edits): each non-object check
 * presumes the object checks whose noun it mentions (last word, singular or plural).
 */
export function linkDependencies(specs: readonly CheckSpec[]): Check[] {
  const nouns = specs.map((s) => (s.tag === 'object' ? objectNoun(s.question) : null));
  return specs.map((s) => {
    if (s.tag === 'object') return { ...s, dependsOn: [] };
    const text = s.question.toLowerCase();
    const dependsOn = nouns.flatMap((noun, i) => {
      if (noun === null) return [];
      const head = singularize(noun.split(' ').at(-1)!);
      const pattern = new RegExp(`\\b(${escape(head)}|${escape(pluralize(head))})\\b`);
      return pattern.test(text) ? [i] : [];
    });
    return { ...s, dependsOn };
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The stand-in when the MLLM lists nothing usable: the whole request as one check (a layout-level "style" check, §4.5). */
export function fallbackChecklist(prompt: string): Check[] {
  const request = prompt.trim().replace(/[.?!\s]+$/, '');
  return [{ question: `Does the picture show ${request}?`, tag: 'style', dependsOn: [] }];
}

/** The user's own checks (edited before a run): trimmed, de-duplicated, capped, dependencies relinked. */
export function userChecklist(specs: readonly CheckSpec[]): Check[] {
  const kept = specs
    .map((s) => ({ tag: s.tag, question: s.question.trim() }))
    .filter(
      (s, i, all) =>
        s.question !== '' && all.findIndex((o) => o.question.toLowerCase() === s.question.toLowerCase()) === i,
    );
  if (kept.length === 0) throw new RangeError('the edited checklist has no checks');
  return linkDependencies(kept.slice(0, MAX_CHECKS));
}

/** What checklist generation needs from the critic: one text-only reply to `checklistRequest` (§4.2). */
export interface ChecklistWriter {
  listChecks(request: string, signal?: AbortSignal): Promise<string>;
}

export interface Checklist {
  readonly checks: Check[];
  readonly source: ChecklistSource;
  /** The MLLM's reply when it was asked. */
  readonly raw: string | null;
}

/** §4.2 in order: the user's checks, the template parser, the MLLM, the fallback. */
export async function buildChecklist(
  prompt: string,
  user: readonly CheckSpec[] | null,
  writer: ChecklistWriter,
  signal?: AbortSignal,
): Promise<Checklist> {
  if (user) return { checks: userChecklist(user), source: 'user', raw: null };
  const templated = parseTemplatedPrompt(prompt);
  if (templated) return { checks: templated, source: 'template', raw: null };
  const raw = await writer.listChecks(checklistRequest(prompt), signal);
  const specs = parseChecklistReply(raw);
  return specs.length > 0
    ? { checks: linkDependencies(specs), source: 'model', raw }
    : { checks: fallbackChecklist(prompt), source: 'fallback', raw };
}
