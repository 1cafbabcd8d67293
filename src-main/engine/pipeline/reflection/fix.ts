/**
 * The fix for the next edit (reflection.md §4.4): the critic's `EDIT:` line when it parses and keeps what the
 * request asks for, else a deterministic instruction written from the failed check. The verdict the user sees is
 * the checklist itself, so a bad sentence never hides the reason.
 */
import { objectNoun, readSlots } from './check-templates.ts';
import type { Check, CheckResult, FixRecord } from './types.ts';
import { article, countWord, pluralize, singularize } from './words.ts';

/** §4.4, verbatim: multiline, first match wins. */
export const EDIT_LINE = /^EDIT:\s*((Add|Remove|Replace|Change|Move|Make)\b.{3,200})$/m;

/** The instruction of the first `EDIT:` line, or null. */
export function parseFix(raw: string): string | null {
  const m = EDIT_LINE.exec(raw);
  return m ? m[1]!.trim() : null;
}

/** The failure a fix should address first: a missing object before anything that presumes it (§4.2). */
export function primaryFailure(results: readonly CheckResult[]): CheckResult | null {
  const failed = results.filter((r) => !r.passed);
  return (
    failed.find((r) => r.check.tag === 'object' && r.pYes !== null) ??
    failed.find((r) => r.pYes !== null) ??
    failed[0] ??
    null
  );
}

/**
 * An instruction built from one failed check ("Is the car red?" → "Make the car red."; a count → "Make there be
 * exactly three cups."). A missing object is added with the colour its own colour check asks for.
 */
export function fallbackInstruction(failure: CheckResult, results: readonly CheckResult[]): string {
  const q = failure.check.question.trim();
  const s = readSlots(q);
  if (s?.kind === 'object') {
    const color = results
      .map((r) => readSlots(r.check.question))
      .find((c) => c?.kind === 'color' && singularize(c.noun) === s.noun);
    const noun = color?.kind === 'color' ? `${color.color} ${s.noun}` : s.noun;
    return `Add ${article(noun)} ${noun}.`;
  }
  if (s?.kind === 'count') return `Make there be exactly ${countWord(s.count)} ${s.plural}.`;
  if (s?.kind === 'color') return `Make the ${s.noun} ${s.color}.`;
  if (s?.kind === 'position')
    return `Move the ${s.subject} ${s.relation === 'left of' || s.relation === 'right of' ? `to the ${s.relation}` : s.relation} the ${s.reference}.`;
  let m = /^(?:is|are) there (.+?)(?: in the (?:picture|image))?\?$/i.exec(q);
  if (m) return `Add ${m[1]}.`;
  m = /^(?:is|are) (the .+)\?$/i.exec(q);
  if (m) return `Make ${m[1]}.`;
  m = /^does (the .+?) (have|has|wear|hold|show|contain) (.+)\?$/i.exec(q);
  if (m) return `Make ${m[1]} ${m[2]!.toLowerCase()} ${m[3]}.`;
  return `Change the picture so that the answer to "${q}" is yes.`;
}

/** The nouns the request asks for: those of its object checks. */
function requiredNouns(checks: readonly Check[]): string[] {
  return checks.flatMap((c) => {
    const noun = c.tag === 'object' ? objectNoun(c.question) : null;
    return noun ? [singularize(noun.split(' ').at(-1)!)] : [];
  });
}

const mentions = (text: string, noun: string) => new RegExp(`\\b(${noun}|${pluralize(noun)})\\b`, 'i').test(text);

/**
 * True when the instruction removes something the request asks for (§4.4): "Remove the dog" for "a cat and a dog",
 * or "Replace the dog with a cat" (a replacement that keeps the noun, "Replace the blue cup with a red cup", is fine).
 */
export function removesRequired(instruction: string, checks: readonly Check[]): boolean {
  const nouns = requiredNouns(checks);
  const removed = /^Remove\s+(.+)$/i.exec(instruction)?.[1];
  if (removed !== undefined) return nouns.some((n) => mentions(removed.replace(/\bfrom\b.*$/i, ''), n));
  const replaced = /^Replace\s+(.+?)\s+with\s+(.+)$/i.exec(instruction);
  if (replaced) return nouns.some((n) => mentions(replaced[1]!, n) && !mentions(replaced[2]!, n));
  return false;
}

/** The record of a round's fix: the raw reply, the accepted EDIT line (or null), and the instruction to use. */
export function proposeFix(raw: string, results: readonly CheckResult[], checks: readonly Check[]): FixRecord {
  const parsed = parseFix(raw);
  const accepted = parsed !== null && !removesRequired(parsed, checks) ? parsed : null;
  const failure = primaryFailure(results);
  const instruction =
    accepted ?? (failure ? fallbackInstruction(failure, results) : 'Make the picture match the request.');
  return { raw, parsed: accepted, instruction };
}
