import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { invisibleFocus, tabTo, typeOver } from './helpers/keyboard.ts';
import { finishedRuns, TINY_MODEL, TINY_REPO, until } from './helpers/tiny-model.ts';
import { inputOrder, smallScenes } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the keyboard suite: ${unavailable}`);

/**
 * Whole tasks without a mouse: only keyboard.press / keyboard.type (and the file chooser the keyboard opens).
 * Every Tab stop on the way must show where focus is (tabTo fails otherwise).
 */
describe.skipIf(unavailable !== null)('keyboard only', () => {
  let app: AppUnderTest;
  let modelReady = false;
  const needModel = () => {
    if (!modelReady) throw new Error('no model: the keyboard import failed');
  };
  beforeAll(async () => {
    app = await AppUnderTest.launch();
    // Pointer events would make this suite lie; any that reach the page fail it.
    await app.page.evaluate(() => {
      const note = (e: Event) => {
        (window as unknown as { __pointerUsed: string }).__pointerUsed = e.type;
      };
      window.addEventListener('pointerdown', note, true);
      window.addEventListener('mousedown', note, true);
      // A click from Enter or Space has detail 0; one from a pointer counts its presses.
      window.addEventListener(
        'click',
        (e) => {
          if (e.detail > 0) note(e);
        },
        true,
      );
    });
  });
  afterAll(async () => {
    if (app)
      expect(
        await app.page.evaluate(() => (window as unknown as { __pointerUsed?: string }).__pointerUsed ?? null),
      ).toBeNull();
    await app?.dispose();
  });

  /** Starts noting every text the two polite live regions take, in order, as a screen reader would hear them. */
  const recordAnnouncements = () =>
    app.page.evaluate(() => {
      const heard: Record<string, string[]> = { progress: [], result: [] };
      (window as unknown as { __heard: typeof heard }).__heard = heard;
      for (const name of ['progress', 'result']) {
        const region = document.querySelector(`[data-testid="announce-${name}"]`)!;
        new MutationObserver(() => {
          const text = region.textContent?.trim() ?? '';
          if (text !== '' && text !== heard[name]!.at(-1)) heard[name]!.push(text);
        }).observe(region, { childList: true, characterData: true, subtree: true });
      }
    });
  const announcements = () =>
    app.page.evaluate(() => (window as unknown as { __heard: { progress: string[]; result: string[] } }).__heard);

  test('import the tiny model from the Models screen', async () => {
    const { page } = app;
    await page.keyboard.press('Control+3');
    await tabTo(page, page.getByLabel('Folder'));
    await page.keyboard.type(TINY_MODEL);
    await tabTo(page, page.getByLabel(/Repository id/));
    await page.keyboard.type(TINY_REPO);
    await page.keyboard.press('Enter'); // submits the import form
    const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: TINY_REPO }) });
    await until(
      async () =>
        (await card
          .getByTestId('model-state')
          .textContent()
          .catch(() => null)) === 'Ready'
          ? true
          : null,
      60_000,
      'import',
    );
    modelReady = true;
    await page.keyboard.press('Control+1');
  });

  test('create an image: prompt, a small size, Ctrl+Enter', async () => {
    needModel();
    const { page } = app;
    await tabTo(page, page.locator('#prompt'));
    await page.keyboard.type('A red car on a road');
    await tabTo(page, page.getByLabel('Width', { exact: true }));
    await typeOver(page, '64');
    await page.keyboard.press('Tab');
    expect(await page.getByLabel('Height', { exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);
    await typeOver(page, '48');
    await page.keyboard.press('Tab');
    await tabTo(page, page.locator('details.advanced summary'));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByLabel('Steps value'));
    await typeOver(page, '12');
    await page.keyboard.press('Enter');
    await recordAnnouncements();
    await page.keyboard.press('Control+Enter');
    await finishedRuns(page, 1);
    await expect.poll(() => page.getByTestId('result-image').count()).toBe(1);

    // What a screen reader was told: the stage and the quarters (not each of the 12 steps), and the result once.
    const heard = await announcements();
    expect(heard.progress.length).toBeGreaterThanOrEqual(1);
    expect(heard.progress.length).toBeLessThan(12);
    for (const text of heard.progress) expect(text).toMatch(/^Generating: .+, (0|25|50|75|100)%$/);
    expect(heard.result).toEqual(['Done: A red car on a road. 1 result in History.']);
    // Back to fewer steps for the runs that follow.
    await tabTo(page, page.getByLabel('Steps value'), { back: true });
    await typeOver(page, '3');
    await page.keyboard.press('Enter');
  });

  test('add two images from the picker, reorder them, instruct with image 2, generate, cancel a second run', async () => {
    needModel();
    const { page } = app;
    const chooser = page.waitForEvent('filechooser');
    await tabTo(page, page.locator('.add-tile'), { back: true });
    await page.keyboard.press('Enter');
    await (await chooser).setFiles(await smallScenes());
    await expect.poll(() => inputOrder(page)).toEqual(['ball.png', 'box.png']);
    const second = page.getByRole('button', { name: /^image 2: box\.png/ });
    await tabTo(page, second, { back: true });
    await page.keyboard.press('Alt+ArrowLeft');
    await expect.poll(() => inputOrder(page)).toEqual(['box.png', 'ball.png']);
    expect(
      await page.getByRole('button', { name: /^image 1: box\.png/ }).evaluate((el) => el === document.activeElement),
    ).toBe(true);

    await tabTo(page, page.locator('#prompt'));
    await typeOver(page, 'Edit the first image: add the red ball from image 2. The ball sits on the box.');
    await expect.poll(() => page.locator('.input-card.referenced').count()).toBe(2);
    await page.keyboard.press('Control+Enter');
    await finishedRuns(page, 2);
    // A second run, cancelled with Esc while it works (focus is still in the prompt).
    await page.keyboard.press('Control+Enter');
    await expect
      .poll(() => page.locator('.queue-item').first().getAttribute('data-phase'), { timeout: 30_000, interval: 50 })
      .toMatch(/running|submitting|queued/);
    await page.keyboard.press('Escape');
    await expect
      .poll(() => page.locator('.queue-item').first().getAttribute('data-phase'), { timeout: 30_000 })
      .toBe('cancelled');
    expect(await page.locator('.queue-item[data-phase="done"]').count()).toBe(2);
  });

  test('History: re-run a result with its seed', async () => {
    needModel();
    const { page } = app;
    await page.keyboard.press('Control+2');
    const thumbs = page.getByRole('list', { name: 'Results' }).getByRole('button');
    await expect.poll(() => thumbs.count()).toBe(2);
    await tabTo(page, thumbs.first());
    await page.keyboard.press('Enter');
    await expect.poll(() => thumbs.first().getAttribute('aria-current')).toBe('true');
    const seed = await page.locator('.recipe-table tr', { hasText: 'Seed' }).locator('td').textContent();
    await tabTo(page, page.getByRole('button', { name: 'Re-run' }));
    await page.keyboard.press('Enter');
    await finishedRuns(page, 3);
    await page.keyboard.press('Control+2');
    await expect.poll(() => thumbs.count()).toBe(3);
    await tabTo(page, thumbs.first(), { back: true });
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('.recipe-table tr', { hasText: 'Seed' }).locator('td').textContent())
      .toBe(seed);
  });

  test('Check & refine, then read a round’s checklist', async () => {
    needModel();
    const { page } = app;
    await page.keyboard.press('Control+1');
    await tabTo(page, page.getByRole('button', { name: 'Check & refine' }));
    await page.keyboard.press('Enter');
    const strip = page.getByRole('region', { name: /^Check and refine: / });
    await until(
      async () => {
        const phase = await strip.getAttribute('data-phase').catch(() => null);
        if (phase === 'failed') return (await strip.getByRole('alert').textContent()) ?? 'failed';
        return phase === 'finished' ? true : null;
      },
      240_000,
      'reflection',
    );
    const round = strip.getByRole('list', { name: 'Rounds' }).getByRole('button').first();
    await tabTo(page, round, { back: true });
    await page.keyboard.press('Enter');
    expect(await round.getAttribute('aria-expanded')).toBe('true');
    const checklist = strip.getByRole('list', { name: /^Checklist of round 0/ });
    const checks = await checklist.getByRole('listitem').allTextContents();
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks.every((c) => /\?/.test(c))).toBe(true); // each line is a yes/no question with its answer
  });

  test('save the project and reopen it', async () => {
    const { page } = app;
    app.dialogs.next.saveName = 'keyboard.atelier';
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('keyboard');
    const path = await page
      .getByRole('button', { name: /keyboard/ })
      .first()
      .getAttribute('title');
    await page.keyboard.press('Control+n');
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Untitled');
    expect(await inputOrder(page)).toEqual([]);
    app.dialogs.next.openProject = path;
    await page.keyboard.press('Control+o');
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('keyboard');
    await expect.poll(() => inputOrder(page)).toEqual(['box.png', 'ball.png']);
  });

  test('Chat: Ctrl+J opens it with focus in the message box, Enter asks, Tab reaches the log and its actions, Ctrl+J closes it', async () => {
    needModel();
    const { page } = app;
    const focusedId = () => page.evaluate(() => document.activeElement?.id ?? null);
    await page.keyboard.press('Control+j');
    await expect.poll(() => page.getByRole('tab', { name: /^Chat/ }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(focusedId).toBe('chat-message');
    await page.keyboard.type('What is in image 2?');
    await page.keyboard.press('Enter');
    // The tiny model answers arbitrarily: text, or a picture it decides to draw; either ends announced.
    await expect
      .poll(() => page.getByTestId('chat-announcement').textContent(), { timeout: 120_000 })
      .toMatch(/^(Answer:|The model answers with a picture|The picture)/);
    await expect.poll(() => page.getByTestId('chat-stop').count(), { timeout: 120_000 }).toBe(0);
    await expect.poll(() => page.getByTestId('chat-drawing').count(), { timeout: 150_000 }).toBe(0);
    expect(await focusedId()).toBe('chat-message');
    await tabTo(page, page.getByTestId('chat-log'), { back: true });
    await tabTo(page, page.getByRole('button', { name: /^Draw this/ }));
    await page.keyboard.press('Control+j');
    await expect.poll(() => page.getByRole('tab', { name: /^Inputs/ }).getAttribute('aria-selected')).toBe('true');
  });

  test('dialogs take focus, keep it inside, close on Esc and give it back', async () => {
    const { page } = app;
    const keys = page.getByRole('button', { name: 'Keys' });
    await tabTo(page, keys, { back: true });
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      const where = await page.evaluate(() =>
        document.activeElement === document.body
          ? 'body'
          : document.activeElement?.closest('dialog')
            ? 'dialog'
            : 'outside',
      );
      expect(where).not.toBe('outside');
      expect(await invisibleFocus(page)).toBeNull();
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await keys.evaluate((el) => el === document.activeElement)).toBe(true);

    const card = page.getByRole('button', { name: /^image 1: box\.png/ });
    await tabTo(page, card);
    await page.keyboard.press('Enter');
    const preview = page.getByRole('dialog', { name: /image 1 · box\.png/ });
    await expect.poll(() => preview.isVisible()).toBe(true);
    expect(await preview.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => preview.count()).toBe(0);
    expect(await card.evaluate((el) => el === document.activeElement)).toBe(true);
  });
});
