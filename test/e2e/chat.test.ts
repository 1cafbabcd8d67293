import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { PieceGate, gatedChat } from './harness/paced-engine.ts';
import { importTinyModel } from './helpers/tiny-model.ts';
import { dropFiles, inputOrder, smallScenes } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the chat suite: ${unavailable}`);

/** Holds the streamed pieces until the test lets some through (gatedChat), so watching and stopping are deterministic. */
const gate = new PieceGate();

const answers = (page: Page) => page.getByTestId('chat-assistant');
const lastAnswerText = (page: Page) =>
  answers(page)
    .last()
    .locator('.chat-text')
    .textContent()
    .catch(() => '');
const stopButton = (page: Page) => page.getByTestId('chat-stop');
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? null);

async function ask(page: Page, question: string): Promise<void> {
  await page.locator('#chat-message').fill(question);
  await page.locator('#chat-message').press('Enter');
}

const answerLength = async (page: Page) => (await lastAnswerText(page))?.length ?? 0;

/** The streamed text grows while the answer runs: a few pieces, then a few more, with the answer still going. */
async function watchItStream(page: Page): Promise<number> {
  gate.allow(8);
  await expect.poll(() => answerLength(page), { timeout: 60_000 }).toBeGreaterThan(0);
  const first = await answerLength(page);
  gate.allow(8);
  await expect.poll(() => answerLength(page), { timeout: 30_000 }).toBeGreaterThan(first);
  expect(await stopButton(page).count()).toBe(1);
  return answerLength(page);
}

async function setSmallRun(page: Page): Promise<void> {
  const advanced = page.locator('details.advanced');
  if (!(await advanced.evaluate((d: HTMLDetailsElement) => d.open))) await advanced.locator('summary').click();
  await page.getByLabel('Steps value').fill('2');
  await page.getByLabel('Steps value').press('Enter');
  await page.getByLabel('Width').fill('64');
  await page.getByLabel('Width').press('Tab');
  await page.getByLabel('Height').fill('48');
  await page.getByLabel('Height').press('Tab');
}

describe.skipIf(unavailable !== null)('chat with the tiny model', () => {
  const userData = mkdtempSync(join(tmpdir(), 'atelier-e2e-chat-'));
  let app: AppUnderTest | undefined;
  afterAll(async () => {
    await app?.dispose();
    rmSync(userData, { recursive: true, force: true });
  });

  test('drop two images, ask about image 2, watch the answer stream, stop it midway, ask a follow-up', async () => {
    app = await AppUnderTest.launch({ userData, wrapEngine: (engine) => gatedChat(engine, gate) });
    const { page } = app;
    await importTinyModel(page);
    await dropFiles(page, await smallScenes());
    await expect.poll(() => inputOrder(page)).toEqual(['ball.png', 'box.png']);
    await setSmallRun(page);

    await page.keyboard.press('Control+j');
    await expect.poll(() => page.getByRole('tab', { name: /^Chat/ }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => focusedId(page)).toBe('chat-message');
    expect(await page.locator('.chat-image-chip').allTextContents()).toEqual(['image 1', 'image 2']);
    await app.screenshot('chat-empty');

    gate.allow(0);
    await ask(page, 'What is in image 2?');
    await watchItStream(page);
    await app.screenshot('chat-streaming');
    expect(await focusedId(page)).toBe('chat-message');
    await page.keyboard.press('Escape');
    await expect.poll(() => answers(page).last().getByText('Stopped').count()).toBe(1);
    await expect.poll(() => stopButton(page).count()).toBe(0);
    const stoppedText = await lastAnswerText(page);
    expect(stoppedText!.length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('chat-announcement').textContent()).toBe('The answer was stopped.');

    // The live region speaks once per answer: count its changes over the whole follow-up.
    await page.evaluate(() => {
      const w = window as unknown as { __announced: string[] };
      w.__announced = [];
      const region = document.querySelector('[data-testid="chat-announcement"]')!;
      new MutationObserver(() => w.__announced.push(region.textContent ?? '')).observe(region, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    gate.allow(0);
    await ask(page, 'And what colour is it?');
    const shown = await watchItStream(page);
    // Scrolling up to read holds the view still while the answer keeps coming.
    const log = page.getByTestId('chat-log');
    await log.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    gate.open();
    await expect.poll(() => stopButton(page).count(), { timeout: 60_000 }).toBe(0);
    expect(await answerLength(page)).toBeGreaterThan(shown);
    expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
    const announced = await page.evaluate(() => (window as unknown as { __announced: string[] }).__announced);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatch(/^Answer: /);
    expect(await answers(page).count()).toBe(2);
    expect(await answers(page).first().locator('.chat-text').textContent()).toBe(stoppedText); // kept as stopped
    expect(await focusedId(page)).toBe('chat-message');
    await app.screenshot('chat-with-images');
  });

  test('"Draw this" makes a picture in the conversation with progress, then its recipe; it lands in History', async () => {
    const { page } = app!;
    await page.locator('#chat-message').fill('Draw the red ball from image 1 sitting on the box of image 2.');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.getByTestId('chat-drawing').count(), { timeout: 30_000 }).toBe(1);
    expect(
      await page
        .getByTestId('chat-drawing')
        .getByRole('button', { name: /Cancel/ })
        .count(),
    ).toBe(1);
    await expect.poll(() => page.getByTestId('chat-picture').count(), { timeout: 150_000 }).toBe(1);
    await page.getByTestId('chat-picture').locator('summary').click();
    await app!.screenshot('chat-picture');
    expect(await focusedId(page)).not.toBe(null);
    await page.keyboard.press('Control+2');
    const results = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
    expect(await results.count()).toBe(1);
    expect(await page.locator('.history-detail-prompt').textContent()).toBe(
      'Draw the red ball from image 1 sitting on the box of image 2.',
    );
    await page.keyboard.press('Control+1');
  });

  test('save the project, reopen it after a restart and find the conversation; its picture is usable as an input', async () => {
    const { page } = app!;
    app!.dialogs.next.saveName = 'Chat.atelier';
    await page.keyboard.press('Control+s');
    const file = join(userData, 'projects', 'Chat.atelier');
    await expect.poll(() => existsSync(file)).toBe(true);
    expect(readFileSync(file).readUInt32LE(12)).toBe(2); // project format 2: with conversations
    await app!.dispose();
    app = await AppUnderTest.launch({ userData });
    const reopened = app.page;
    await importTinyModel(reopened).catch(() => undefined); // already installed: the import answers it is there
    await reopened.keyboard.press('Control+1'); // the import leaves Models open; the project menu is in the workspace
    await reopened.locator('.project-button').click();
    await reopened.getByRole('menuitem', { name: /Chat/ }).click();
    await expect.poll(() => reopened.getByTestId('project-name').textContent()).toBe('Chat');
    await reopened.keyboard.press('Control+j');
    await expect.poll(() => reopened.getByTestId('chat-user').count()).toBe(3);
    expect(await reopened.getByTestId('chat-assistant').count()).toBe(3);
    expect(await reopened.getByTestId('chat-user').first().textContent()).toContain('What is in image 2?');
    await expect.poll(() => reopened.getByTestId('chat-picture').count()).toBe(1);
    expect(await reopened.getByTestId('chat-picture').locator('.recipe-table').textContent()).toContain(
      'Chat mode, 4 earlier turns',
    );

    const exports = join(userData, 'exports');
    mkdirSync(exports);
    app.dialogs.next.folder = exports;
    await reopened.locator('#chat-message').focus();
    await reopened.keyboard.press('Control+Shift+E');
    await expect.poll(() => reopened.getByRole('status').filter({ hasText: 'Conversation exported' }).count()).toBe(1);
    const files = readdirSync(exports).sort();
    expect(files.filter((f) => f.endsWith('.md'))).toHaveLength(1);
    expect(files.filter((f) => /-image-\d\.png$/.test(f))).toHaveLength(2);
    expect(files.filter((f) => /-picture-1\.png$/.test(f))).toHaveLength(1);
    const markdown = readFileSync(
      join(
        exports,
        files.find((f) => f.endsWith('.md'))!,
      ),
      'utf8',
    );
    expect(markdown).toContain('> What is in image 2?');
    expect(markdown).toContain('*(stopped)*');

    await reopened.getByTestId('chat-picture').getByRole('button', { name: 'Use as input' }).click();
    await expect.poll(() => inputOrder(reopened).then((o) => o.length)).toBe(3);
  });
});
