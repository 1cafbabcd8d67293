/**
 * The fixed wordings of templated checks (reflection.md §4.2) and their inverse: reading the facts back out of a
 * question. Deriving facts from the text (instead of storing them) means a check the user edited by hand still
 * gets a precise fallback fix (§4.4) and corrective clause (§4.5) whenever it keeps a templated form.
 */
import { GENEVAL_COLORS, article, countWord, isColor, parseCount, type GenevalColor } from './words.ts';

export type Relation = 'left of' | 'right of' | 'above' | 'below';

export type CheckSlots =
  | { readonly kind: 'object'; readonly noun: string }
  | { readonly kind: 'count'; readonly plural: string; readonly count: number }
  | { readonly kind: 'color'; readonly noun: string; readonly color: GenevalColor; readonly plural: boolean }
  | { readonly kind: 'position'; readonly subject: string; readonly relation: Relation; readonly reference: string };

const RELATION_PHRASE: Record<Relation, string> = {
  'left of': 'to the left of',
  'right of': 'to the right of',
  above: 'above',
  below: 'below',
};

export const objectQuestion = (noun: string) => `Is there ${article(noun)} ${noun} in the picture?`;
export const countQuestion = (count: number, plural: string) =>
  `Are there exactly ${countWord(count)} ${plural} in the picture?`;
export const colorQuestion = (noun: string, color: GenevalColor, plural: boolean) =>
  `${plural ? 'Are' : 'Is'} the ${noun} ${color}?`;
export const positionQuestion = (subject: string, relation: Relation, reference: string) =>
  `Is the ${subject} ${RELATION_PHRASE[relation]} the ${reference}?`;

const NOUN = '([a-z][a-z -]*?)';
const WHERE = '(?: in the (?:picture|image))?';
const OBJECT = new RegExp(`^is there (?:a|an) ${NOUN}${WHERE}\\?$`, 'i');
const COUNT = new RegExp(`^are there exactly (\\w+) ${NOUN}${WHERE}\\?$`, 'i');
const POSITION = new RegExp(
  `^(?:is|are) the ${NOUN} (to the left of|to the right of|left of|right of|above|below) the ${NOUN}\\?$`,
  'i',
);
const COLOR = new RegExp(`^(is|are) the ${NOUN} (${GENEVAL_COLORS.join('|')})\\?$`, 'i');

/** The facts of a question in one of the templated forms above (any casing); null for free-form questions. */
export function readSlots(question: string): CheckSlots | null {
  const q = question.trim();
  let m = OBJECT.exec(q);
  if (m) return { kind: 'object', noun: m[1]!.toLowerCase() };
  m = COUNT.exec(q);
  const count = m ? parseCount(m[1]!) : null;
  if (m && count !== null) return { kind: 'count', plural: m[2]!.toLowerCase(), count };
  m = POSITION.exec(q);
  if (m) {
    const relation = m[2]!.toLowerCase().replace(/^to the /, '') as Relation;
    return { kind: 'position', subject: m[1]!.toLowerCase(), relation, reference: m[3]!.toLowerCase() };
  }
  m = COLOR.exec(q);
  const color = m?.[3]!.toLowerCase() ?? '';
  if (m && isColor(color))
    return { kind: 'color', noun: m[2]!.toLowerCase(), color, plural: m[1]!.toLowerCase() === 'are' };
  return null;
}

/** The noun an object-existence question asks about ("Is there a red car?" → "red car"); null for other questions. */
export function objectNoun(question: string): string | null {
  const slots = readSlots(question);
  if (slots?.kind === 'object') return slots.noun;
  const m = /^(?:is|are) there (?:a |an |any |some )?(.+?)(?: in the (?:picture|image))?\?$/i.exec(question.trim());
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * The check as a statement for the corrective clauses of a regeneration (§4.5: "exactly three cups", "the dog is
 * left of the cup"); null when a free-form question has no reliable statement form (regeneration then only
 * changes the seed for it).
 */
export function statementOf(question: string): string | null {
  const s = readSlots(question);
  if (s?.kind === 'object') return `there is ${article(s.noun)} ${s.noun}`;
  if (s?.kind === 'count') return `exactly ${countWord(s.count)} ${s.plural}`;
  if (s?.kind === 'color') return `the ${s.noun} ${s.plural ? 'are' : 'is'} ${s.color}`;
  if (s?.kind === 'position') return `the ${s.subject} is ${RELATION_PHRASE[s.relation]} the ${s.reference}`;
  const q = question.trim();
  let m = /^(is|are) there (.+?)(?: in the (?:picture|image))?\?$/i.exec(q);
  if (m) return `there ${m[1]!.toLowerCase()} ${m[2]}`;
  m = /^(is|are) (the [a-z]+(?: [a-z]+)?) ([a-z]+)\?$/i.exec(q);
  if (m) return `${m[2]} ${m[1]!.toLowerCase()} ${m[3]}`;
  return null;
}
