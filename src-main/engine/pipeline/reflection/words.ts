/** The English the checklist templates need: GenEval's colours and numbers, plurals, articles (reflection.md §4.2). */

/** GenEval's ten colour names (its colour classifier's classes). */
export const GENEVAL_COLORS = [
  'red',
  'orange',
  'yellow',
  'green',
  'blue',
  'purple',
  'pink',
  'brown',
  'black',
  'white',
] as const;
export type GenevalColor = (typeof GENEVAL_COLORS)[number];

export function isColor(word: string): word is GenevalColor {
  return (GENEVAL_COLORS as readonly string[]).includes(word);
}

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

/** "a"/"an"/"one"/"three"/"3" → 1/1/1/3/3; null for anything else. */
export function parseCount(word: string): number | null {
  const w = word.toLowerCase();
  if (w === 'a' || w === 'an') return 1;
  const named = NUMBER_WORDS.indexOf(w);
  if (named >= 1) return named;
  return /^[1-9]\d?$/.test(w) ? Number(w) : null;
}

export function countWord(n: number): string {
  return NUMBER_WORDS[n] ?? String(n);
}

const IRREGULAR: readonly (readonly [string, string])[] = [
  ['person', 'people'],
  ['man', 'men'],
  ['woman', 'women'],
  ['child', 'children'],
  ['mouse', 'mice'],
  ['foot', 'feet'],
  ['tooth', 'teeth'],
  ['goose', 'geese'],
  ['sheep', 'sheep'],
  ['fish', 'fish'],
  ['deer', 'deer'],
  ['knife', 'knives'],
  ['leaf', 'leaves'],
  ['wolf', 'wolves'],
  ['shelf', 'shelves'],
  ['loaf', 'loaves'],
  ['bus', 'buses'],
  ['potato', 'potatoes'],
  ['tomato', 'tomatoes'],
  ['scissors', 'scissors'],
  ['skis', 'skis'],
];

/** The plural of a noun phrase's last word ("hot dog" → "hot dogs"). */
export function pluralize(noun: string): string {
  return mapLastWord(noun, (w) => {
    const irregular = IRREGULAR.find(([one]) => one === w);
    if (irregular) return irregular[1];
    if (/(s|x|z|ch|sh)$/.test(w)) return `${w}es`;
    if (/[^aeiou]y$/.test(w)) return `${w.slice(0, -1)}ies`;
    return `${w}s`;
  });
}

/** The singular of a plural noun phrase's last word ("cups" → "cup", "benches" → "bench", "horses" → "horse"). */
export function singularize(noun: string): string {
  return mapLastWord(noun, (w) => {
    const irregular = IRREGULAR.find(([, many]) => many === w);
    if (irregular) return irregular[0];
    if (/[^aeiou]ies$/.test(w)) return `${w.slice(0, -3)}y`;
    if (/(ss|x|z|ch|sh)es$/.test(w)) return w.slice(0, -2);
    if (/[^s]s$/.test(w)) return w.slice(0, -1);
    return w;
  });
}

export function article(noun: string): 'a' | 'an' {
  return /^[aeiou]/i.test(noun) ? 'an' : 'a';
}

function mapLastWord(phrase: string, f: (word: string) => string): string {
  const words = phrase.split(' ');
  words[words.length - 1] = f(words[words.length - 1]!.toLowerCase());
  return words.join(' ');
}

/** Upper-cases the first letter. */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
