import { en } from './messages/en.ts';
import { zhCN } from './messages/zh-CN.ts';
import { formatMessage, type Locale, type Message, type ParamValue, type PlaceholdersOf } from './translator.ts';

export type MessageKey = keyof typeof en;
/** Every key of the English catalogue, each with a message: a missing translation fails to compile. */
export type Catalogue = { readonly [K in MessageKey]: Message };

const CATALOGUES: Record<Locale, Catalogue> = { en, 'zh-CN': zhCN };

type Args<K extends MessageKey> = [PlaceholdersOf<(typeof en)[K]>] extends [never]
  ? []
  : [params: Record<PlaceholdersOf<(typeof en)[K]>, ParamValue>];

/** The language the UI speaks now; reading it inside a template or `$derived` re-renders on a change. */
class Language {
  locale = $state<Locale>('en');
}
const language = new Language();

export function currentLocale(): Locale {
  return language.locale;
}

/** Switches the UI language, and the document's `lang` so screen readers pick the right voice. */
export function setLocale(locale: Locale): void {
  language.locale = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

/** The message `key` in the current language, with its placeholders filled (the compiler checks their names). */
export function t<K extends MessageKey>(key: K, ...[params]: Args<K>): string {
  return formatMessage(
    language.locale,
    CATALOGUES[language.locale][key],
    params as Record<string, ParamValue> | undefined,
  );
}

/** A date or time in the UI language (not the system's, which may differ from the language chosen in the app). */
export function formatDate(iso: string, options: Intl.DateTimeFormatOptions): string {
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a date formatted once, never mutated
  return new Intl.DateTimeFormat(language.locale, options).format(new Date(iso));
}

/** A fraction (0.55) as a percentage in the UI language ("55%"). */
export function formatPercent(fraction: number): string {
  return new Intl.NumberFormat(language.locale, { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

/** A number with exactly `digits` decimals, in the UI language's digits and separators. */
export function formatFixed(value: number, digits: number): string {
  return new Intl.NumberFormat(language.locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}
