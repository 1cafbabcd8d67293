import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { TINY_MODEL, finishedRuns, importTinyModel } from './helpers/tiny-model.ts';
import { dropFiles, inputOrder, scenePng } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the projects suite: ${unavailable}`);

const PROMPT = 'Make the ball red and shiny.';

/** The import goes through the Browse… button, so the native folder dialog's path is covered too. */
function importTinyModelByBrowsing(app: AppUnderTest): Promise<void> {
  const { page } = app;
  return importTinyModel(page, async () => {
    app.dialogs.next.folder = TINY_MODEL;
    await page.getByRole('button', { name: 'Browse…' }).click();
    await expect.poll(() => page.getByLabel('Folder').inputValue()).toBe(TINY_MODEL);
  });
}

async function generateSmall(page: Page, runs: number): Promise<void> {
  const advanced = page.locator('details.advanced');
  if (!(await advanced.evaluate((d: HTMLDetailsElement) => d.open))) await advanced.locator('summary').click();
  await page.getByLabel('Steps value').fill('2');
  await page.getByLabel('Steps value').press('Enter');
  await page.getByRole('button', { name: /^Generate/ }).click();
  await finishedRuns(page, runs);
}

const projectMenu = (page: Page) => page.locator('.project-button');
const dirtyDot = (page: Page) => page.getByRole('img', { name: 'Unsaved changes' });

describe.skipIf(unavailable !== null)('project files through the UI', () => {
  const userData = mkdtempSync(join(tmpdir(), 'atelier-e2e-projects-'));
  const exports = join(userData, 'exports');
  let app: AppUnderTest | undefined;
  afterAll(async () => {
    await app?.dispose();
    rmSync(userData, { recursive: true, force: true });
  });

  test('make a result, save the project, export the result as a PNG that carries its recipe', async () => {
    app = await AppUnderTest.launch({ userData });
    const { page } = app;
    await expect.poll(() => page.title()).toBe('Untitled — Atelier');
    await importTinyModelByBrowsing(app);
    const ball = await scenePng({
      width: 64,
      height: 64,
      sky: '#8ec5ff',
      ground: '#6aa84f',
      subject: '#2b5fd9',
      shape: 'circle',
    });
    await dropFiles(page, [{ name: 'ball.png', mimeType: 'image/png', buffer: ball }]);
    await expect.poll(() => inputOrder(page)).toEqual(['ball.png']);
    await page.locator('#prompt').fill(PROMPT);
    await generateSmall(page, 1);
    await expect.poll(() => dirtyDot(page).count()).toBe(1);
    await expect.poll(() => page.title()).toBe('• Untitled — Atelier');

    await projectMenu(page).click();
    await expect.poll(() => page.getByRole('menu', { name: 'Project' }).isVisible()).toBe(true);
    await app.screenshot('project-menu');
    app.dialogs.next.saveName = 'Blue ball.atelier';
    await page.getByRole('menuitem', { name: /^Save as…/ }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Blue ball');
    await expect.poll(() => dirtyDot(page).count()).toBe(0);
    expect(await page.title()).toBe('Blue ball — Atelier');
    expect(existsSync(join(userData, 'projects', 'Blue ball.atelier'))).toBe(true);
    await app.screenshot('project-saved-title');

    mkdirSync(exports);
    app.dialogs.next.folder = exports;
    await page.keyboard.press('Control+2');
    await page.getByRole('button', { name: 'Export PNG…' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'One PNG exported' }).count()).toBe(1);
    expect(readdirSync(exports)).toHaveLength(1);
    await app.dispose();
    app = undefined;
  });

  test('a fresh start reopens it from the recent list with the same inputs, prompt, parameters and history', async () => {
    app = await AppUnderTest.launch({ userData });
    const { page } = app;
    expect(await page.getByRole('dialog', { name: 'Recover unsaved work?' }).count()).toBe(0); // it was saved
    await projectMenu(page).click();
    await page.getByRole('menuitem', { name: /Blue ball/ }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Blue ball');
    expect(await inputOrder(page)).toEqual(['ball.png']);
    expect(await page.locator('#prompt').inputValue()).toBe(PROMPT);
    const advanced = page.locator('details.advanced');
    if (!(await advanced.evaluate((d: HTMLDetailsElement) => d.open))) await advanced.locator('summary').click();
    expect(await page.getByLabel('Steps value').inputValue()).toBe('2');
    expect(await dirtyDot(page).count()).toBe(0);
    await page.keyboard.press('Control+2');
    const results = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
    expect(await results.count()).toBe(1);
    expect(await page.locator('.history-detail-prompt').textContent()).toBe(PROMPT);
  });

  test('a PNG exported by Atelier, dropped on the window, restores its recipe into the workspace', async () => {
    const { page } = app!;
    await page.keyboard.press('Control+1');
    await page.locator('#prompt').fill('Something else');
    const [file] = readdirSync(exports);
    await dropFiles(page, [{ name: file!, mimeType: 'image/png', buffer: readFileSync(join(exports, file!)) }]);
    await expect
      .poll(() =>
        page
          .getByRole('status')
          .filter({ hasText: `Settings restored from ${file}` })
          .count(),
      )
      .toBe(1);
    expect(await page.locator('#prompt').inputValue()).toBe(PROMPT);
    expect(await inputOrder(page)).toEqual(['ball.png']); // not added as an input
  });

  test('a damaged project file gives the plain-language message', async () => {
    const { page } = app!;
    const broken = join(userData, 'projects', 'Broken.atelier');
    writeFileSync(broken, 'PK\u0003\u0004 this is not a project');
    app!.dialogs.next.openProject = broken;
    await page.keyboard.press('Control+o');
    await page.getByRole('button', { name: 'Don’t save' }).click(); // the prompt edits above are unsaved
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Opening the project: the file is damaged/);
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Blue ball');
  });

  test('after a crash with unsaved work, the next start offers to recover it', async () => {
    const { page } = app!;
    await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
    await page.locator('#prompt').fill('A second, unsaved run');
    await generateSmall(page, 1); // a finished run is autosaved at once
    await expect.poll(() => dirtyDot(page).count()).toBe(1);
    await app!.dispose(); // no save, no close: as if the app crashed
    app = await AppUnderTest.launch({ userData });
    const dialog = app.page.getByRole('dialog', { name: 'Recover unsaved work?' });
    await expect.poll(() => dialog.count()).toBe(1);
    await app.screenshot('project-recovery-dialog');
    await dialog.getByRole('button', { name: 'Recover' }).click();
    await expect.poll(() => app!.page.locator('#prompt').inputValue()).toBe('A second, unsaved run');
    expect(await app.page.getByTestId('project-name').textContent()).toBe('Blue ball');
    expect(await dirtyDot(app.page).count()).toBe(1);
    await app.page.keyboard.press('Control+2');
    expect(await app.page.getByRole('list', { name: 'Results' }).getByRole('listitem').count()).toBe(2);
  });
});
