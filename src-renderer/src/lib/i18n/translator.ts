import type { LanguagePreference } from '../../../../src-main/ipc/contract.ts';

/**
 * A message: text with `{name}` placeholders, or, for text that depends on a count, one text per plural category
 * of `Intl.PluralRules` (`other` is required; English also has `one`, Chinese needs only `other`). `{count}` is
 * the number that picks the category.
 */
export type Message = string | PluralMessage;
export interface PluralMessage {
  zero?: string;
  one?: string;
  two?: string;
  few?: string;
  many?: string;
  other: string;
}

/** The languages Atelier is translated into; `en` is the source every other catalogue is checked against. */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** Placeholder names of one message, read from its English text at compile time. */
type Holes<S> = S extends `${string}{${infer Name}}${infer Rest}` ? Name | Holes<Rest> : never;
export type PlaceholdersOf<M> = M extends string
  ? Holes<M>
  : M extends PluralMessage
    ? Holes<M[keyof M]> | 'count'
    : never;
export type ParamValue = string | number;

/**
 * The language a preference means here: the chosen one, or for 'system' the first of the system's languages we
 * have (any Chinese but the traditional-script regions falls to Simplified Chinese), else English.
 */
export function resolveLocale(preference: LanguagePreference, systemLanguages: readonly string[]): Locale {
  if (preference !== 'system') return preference;
  for (const tag of systemLanguages) {
    const lower = tag.toLowerCase();
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
    if (lower === 'zh' || (lower.startsWith('zh-') && !/^zh-(hant|tw|hk|mo)/.test(lower))) return 'zh-CN';
  }
  return 'en';
}

/**
 * Formats one message: picks the plural form for `count`, and writes numbers with the locale's digits and
 * separators (grouping only from five digits on, so "1280 × 720" stays as people write sizes). A placeholder
 * without a value is left visible as `{name}`, so a missing argument shows in screenshots instead of vanishing.
 */
export function formatMessage(locale: Locale, message: Message, params: Record<string, ParamValue> = {}): string {
  let text: string;
  if (typeof message === 'string') text = message;
  else {
    const count = params.count;
    const category = typeof count === 'number' ? pluralRules(locale).select(count) : 'other';
    text = message[category] ?? message.other;
  }
  return text.replace(/\{(\w+)\}/g, (hole, name: string) => {
    const value = params[name];
    if (value === undefined) return hole;
    return typeof value === 'number' ? numberFormat(locale).format(value) : value;
  });
}

const rulesCache = new Map<Locale, Intl.PluralRules>();
const numberCache = new Map<Locale, Intl.NumberFormat>();
function pluralRules(locale: Locale): Intl.PluralRules {
  let rules = rulesCache.get(locale);
  if (!rules) rulesCache.set(locale, (rules = new Intl.PluralRules(locale)));
  return rules;
}
function numberFormat(locale: Locale): Intl.NumberFormat {
  let format = numberCache.get(locale);
  if (!format)
    numberCache.set(
      locale,
      (format = new Intl.NumberFormat(locale, { maximumFractionDigits: 2, useGrouping: 'min2' })),
    );
  return format;
}
