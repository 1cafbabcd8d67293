import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults, ImpactValue, Result } from 'axe-core';

/** The two themes every photographed state is audited in, whatever the theme setting says at the time. */
export const AUDITED_THEMES = ['light', 'dark'] as const;
export type AuditedTheme = (typeof AUDITED_THEMES)[number];

/** Impacts that fail a test; "moderate" and "minor" findings are written to the report and left to review. */
const FAILING_IMPACTS: readonly ImpactValue[] = ['serious', 'critical'];
/** WCAG 2.1 A/AA plus axe's best practices (landmarks, headings, region), the set an auditor would run. */
const RULE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

export interface Finding {
  id: string;
  impact: ImpactValue | null;
  help: string;
  targets: string[];
  summary: string;
}
export interface AuditReport {
  name: string;
  themes: Record<AuditedTheme, Finding[]>;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it stands in light and in dark (the shell's `data-theme` is switched for the
 * audit only and put back), writes the report to `reportPath`, and returns it. Transitions are paused while
 * auditing so colour contrast is measured on the final colours, not halfway through a fade.
 */
export async function auditPage(page: Page, name: string, reportPath: string): Promise<AuditReport> {
  // Evaluated through the debugging protocol: the app's CSP (script-src 'self') rightly refuses a script tag.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const themes = {} as Record<AuditedTheme, Finding[]>;
  const restore = await page.evaluate(() => {
    const shell = document.querySelector('.shell');
    const style = document.createElement('style');
    style.id = 'axe-audit-still';
    style.textContent =
      '*, *::before, *::after { transition: none !important; animation-play-state: paused !important; }';
    document.head.append(style);
    return shell?.getAttribute('data-theme') ?? null;
  });
  try {
    for (const theme of AUDITED_THEMES) {
      await page.evaluate((t) => document.querySelector('.shell')?.setAttribute('data-theme', t), theme);
      const results = await page.evaluate(async (tags) => {
        const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<AxeResults> } }).axe;
        return axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      }, RULE_TAGS);
      themes[theme] = results.violations.map(toFinding);
    }
  } finally {
    await page.evaluate((t) => {
      document.getElementById('axe-audit-still')?.remove();
      if (t !== null) document.querySelector('.shell')?.setAttribute('data-theme', t);
    }, restore);
  }
  const report = { name, themes };
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** The serious and critical findings of a report, one line each, for an assertion message. */
export function failingFindings(report: AuditReport): string[] {
  return AUDITED_THEMES.flatMap((theme) =>
    report.themes[theme]
      .filter((f) => f.impact !== null && FAILING_IMPACTS.includes(f.impact))
      .map((f) => `${report.name} [${theme}] ${f.impact} ${f.id}: ${f.help} — ${f.targets.join(', ')}`),
  );
}

function toFinding(r: Result): Finding {
  return {
    id: r.id,
    impact: r.impact ?? null,
    help: r.help,
    targets: r.nodes.map((n) => n.target.join(' ')),
    summary: r.nodes[0]?.failureSummary ?? '',
  };
}
