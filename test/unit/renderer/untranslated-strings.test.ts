import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'svelte/compiler';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../../helpers/golden.ts';

/**
 * Every word a person reads comes from the message catalogues (src-renderer/src/lib/i18n/messages/), never from a
 * component. This walks each component's template: text, the attributes people hear or see (labels, titles,
 * placeholders, alt text), and string literals that flow straight into those (`{a ? 'x' : 'y'}`, template
 * literals). What is allowed is only what no language translates: symbols, keyboard glyphs, units and numbers.
 */
const SPOKEN_ATTRIBUTES = new Set([
  'aria-label',
  'aria-valuetext',
  'aria-roledescription',
  'aria-description',
  'title',
  'placeholder',
  'alt',
  'label',
]);
/** Tokens that are the same in every language (symbols and key names as printed on keyboards). */
const ALLOWED = new Set(['Ctrl', 'Shift', 'Alt', 'Enter', 'Esc', 'Tab', 'px']);
/** A single letter is a key name (Ctrl+N), not a word. */
const hasWords = (text: string) => text.split(/[^\p{L}]+/u).some((w) => w.length > 1 && !ALLOWED.has(w));

interface Finding {
  file: string;
  line: number;
  text: string;
}
type Node = { type: string; start: number; [key: string]: unknown };

function componentFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? componentFiles(join(dir, e.name)) : e.name.endsWith('.svelte') ? [join(dir, e.name)] : [],
  );
}

/** String literals in value position: what the expression can evaluate to, not what it compares or calls with. */
function valueStrings(node: Node | null | undefined): Node[] {
  if (!node) return [];
  switch (node.type) {
    case 'Literal':
      return typeof node.value === 'string' ? [node] : [];
    case 'TemplateLiteral':
      return [...(node.quasis as Node[]), ...(node.expressions as Node[]).flatMap(valueStrings)];
    case 'ConditionalExpression':
      return [...valueStrings(node.consequent as Node), ...valueStrings(node.alternate as Node)];
    case 'LogicalExpression':
      return [...valueStrings(node.left as Node), ...valueStrings(node.right as Node)];
    case 'BinaryExpression':
      return node.operator === '+' ? [...valueStrings(node.left as Node), ...valueStrings(node.right as Node)] : [];
    default:
      return [];
  }
}
const literalText = (n: Node) =>
  n.type === 'TemplateElement' ? (n.value as { cooked: string }).cooked : String(n.value);

export function untranslated(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  const lineOf = (offset: number) => source.slice(0, offset).split('\n').length;
  const report = (text: string, at: number) => {
    if (hasWords(text)) findings.push({ file, line: lineOf(at), text: text.trim() });
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Node;
    if (['Script', 'StyleSheet', 'Comment', 'StyleDirective', 'ClassDirective', 'BindDirective'].includes(n.type))
      return;
    if (n.type === 'Text') {
      report(n.data as string, n.start);
      return;
    }
    if (n.type === 'ExpressionTag') {
      valueStrings(n.expression as Node).forEach((s) => report(literalText(s), s.start));
      return;
    }
    if (n.type === 'Attribute') {
      if (!SPOKEN_ATTRIBUTES.has(n.name as string)) return;
      const value = n.value;
      visit(value);
      return;
    }
    for (const [key, child] of Object.entries(n)) if (key !== 'metadata' && key !== 'parent') visit(child);
  };
  visit(parse(source, { modern: true }).fragment);
  return findings;
}

describe('components carry no untranslated text', () => {
  const root = join(repoRoot, 'src-renderer/src');
  const files = componentFiles(root);

  test('the rule finds text, spoken attributes and literal branches, and lets symbols through', () => {
    const found = untranslated(
      'x.svelte',
      '<p title="Close">Hello {n === 1 ? "image" : "images"}</p><kbd>Ctrl</kbd>+<kbd>N</kbd><span>· {a} × {b} / 5</span><div class="not spoken" style:clip-path={`inset(0 0 0 ${x}%)`}></div>',
    );
    expect(found.map((f) => f.text)).toEqual(['Close', 'Hello', 'image', 'images']);
  });

  test.each(files.map((f) => [relative(root, f), f]))('%s', (_name, file) => {
    const findings = untranslated(relative(root, file), readFileSync(file, 'utf8'));
    expect(findings.map((f) => `${f.file}:${f.line} “${f.text}”`)).toEqual([]);
  });

  test('it looked at the components', () => {
    expect(files.length).toBeGreaterThan(20);
  });
});
