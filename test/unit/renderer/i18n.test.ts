import { afterEach, describe, expect, test } from 'vitest';
import { setLocale, t } from '../../../src-renderer/src/lib/i18n/i18n.svelte.ts';
import { en } from '../../../src-renderer/src/lib/i18n/messages/en.ts';
import { zhCN } from '../../../src-renderer/src/lib/i18n/messages/zh-CN.ts';
import { formatMessage, resolveLocale, type Message } from '../../../src-renderer/src/lib/i18n/translator.ts';

const holes = (m: Message) =>
  new Set(
    (typeof m === 'string' ? [m] : Object.values(m)).flatMap((s) =>
      [...(s ?? '').matchAll(/\{(\w+)\}/g)].map((x) => x[1]),
    ),
  );

describe('translator', () => {
  afterEach(() => setLocale('en'));

  test.each([
    ['system', ['zh-CN', 'en-US'], 'zh-CN'],
    ['system', ['zh'], 'zh-CN'],
    ['system', ['zh-SG'], 'zh-CN'],
    ['system', ['zh-TW', 'en'], 'en'],
    ['system', ['fr-FR', 'de'], 'en'],
    ['system', ['en-GB', 'zh-CN'], 'en'],
    ['system', [], 'en'],
    ['zh-CN', ['en-US'], 'zh-CN'],
    ['en', ['zh-CN'], 'en'],
  ] as const)('preference %s with system languages %j speaks %s', (preference, system, expected) => {
    expect(resolveLocale(preference, system)).toBe(expected);
  });

  test('plural forms follow Intl.PluralRules of the language', () => {
    const message = { one: '{count} image', other: '{count} images' };
    expect(formatMessage('en', message, { count: 1 })).toBe('1 image');
    expect(formatMessage('en', message, { count: 0 })).toBe('0 images');
    expect(formatMessage('en', message, { count: 3 })).toBe('3 images');
    expect(formatMessage('zh-CN', { other: '{count} 张图像' }, { count: 1 })).toBe('1 张图像');
  });

  test('numbers are written by Intl: decimals, and grouping only from five digits', () => {
    expect(formatMessage('en', '{w} × {h}', { w: 1280, h: 720 })).toBe('1280 × 720');
    expect(formatMessage('en', '{n}', { n: 12345 })).toBe('12,345');
    expect(formatMessage('en', '{n}', { n: 2.5 })).toBe('2.5');
    expect(formatMessage('en', '{seed}', { seed: '12345678' })).toBe('12345678'); // text is left alone
  });

  test('a missing value stays visible instead of vanishing', () => {
    expect(formatMessage('en', 'Round {n}', {})).toBe('Round {n}');
  });

  test('t() follows the current language', () => {
    expect(t('history.count', { count: 2 })).toBe('2 results');
    setLocale('zh-CN');
    expect(t('history.count', { count: 2 })).toBe('2 个结果');
    expect(t('nav.models')).toBe('模型');
  });
});

describe('catalogues', () => {
  test('every Chinese message fills the same placeholders as its English source', () => {
    const mismatched = Object.entries(en)
      .filter(([key, message]) => {
        const a = holes(message);
        const b = holes(zhCN[key as keyof typeof en]);
        return a.size !== b.size || [...a].some((h) => !b.has(h));
      })
      .map(([key]) => key);
    expect(mismatched).toEqual([]);
  });

  test('plural messages have the "other" form in every language, and no catalogue has keys English lacks', () => {
    for (const catalogue of [en, zhCN] as Record<string, Message>[]) {
      for (const message of Object.values(catalogue))
        if (typeof message !== 'string') expect(message.other).toBeTruthy();
      expect(Object.keys(catalogue).filter((k) => !(k in en))).toEqual([]);
    }
  });
});
