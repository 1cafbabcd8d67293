import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { finishedRuns, importTinyModel } from './helpers/tiny-model.ts';
import { dropFiles, inputOrder, smallScenes } from './helpers/workspace-fixtures.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the generation suite: ${unavailable}`);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function setSmallRun(page: Page, steps: number): Promise<void> {
  const advanced = page.locator('details.advanced');
  if (!(await advanced.evaluate((d: HTMLDetailsElement) => d.open))) await advanced.locator('summary').click();
  await page.getByLabel('Steps value').fill(String(steps));
  await page.getByLabel('Steps value').press('Enter');
}

describe.skipIf(unavailable !== null)('generation with the tiny golden model', () => {
  let app: AppUnderTest;
  /** The later tests need the imported model; without it they stop at once and say why. */
  let modelReady = false;
  const needModel = () => {
    if (!modelReady) throw new Error('no model to generate with: the import test failed');
  };
  beforeAll(async () => {
    app = await AppUnderTest.launch();
  });
  afterAll(async () => {
    await app?.dispose();
  });

  test('the model manager imports the tiny model and reports it ready', async () => {
    const { page } = app;
    await importTinyModel(page);
    modelReady = true;
    await expect.poll(() => page.locator('#generate-reason').textContent()).toMatch(/Describe the image you want/);
  });

  test('drop two images, reorder them, write an instruction, generate → live progress → the result', async () => {
    needModel();
    const { page } = app;
    const [ball, box] = await smallScenes();
    await dropFiles(page, [ball!, box!]);
    await expect.poll(() => inputOrder(page)).toEqual(['ball.png', 'box.png']);
    await page.getByRole('button', { name: /^image 2: box\.png/ }).focus();
    await page.keyboard.press('Alt+ArrowLeft');
    await expect.poll(() => inputOrder(page)).toEqual(['box.png', 'ball.png']);
    await page
      .locator('#prompt')
      .fill('Edit the first image: add the red ball from the second image. The ball sits on the box.');
    await page.getByLabel('Width').fill('64');
    await page.getByLabel('Width').press('Tab');
    await page.getByLabel('Height').fill('48');
    await page.getByLabel('Height').press('Tab');
    await setSmallRun(page, 4);
    await page.getByRole('button', { name: /^Generate/ }).click();
    await expect.poll(() => page.getByTestId('job-progress').count(), { timeout: 30_000 }).toBe(1);
    await app.screenshot('workspace-generating');
    await finishedRuns(page, 1);
    await expect.poll(() => page.getByTestId('result-image').isVisible()).toBe(true);
    const size = await page
      .getByTestId('result-image')
      .evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
    expect(size).toEqual([64, 48]);
    await app.screenshot('workspace-result');
  });

  test('multi-turn editing: the result becomes image 1, and the edit can be compared with it', async () => {
    needModel();
    const { page } = app;
    await page.getByRole('button', { name: 'Edit this result' }).click();
    await expect.poll(() => page.getByRole('radio', { name: 'Edit' }).getAttribute('aria-checked')).toBe('true');
    await page.locator('#prompt').fill('Make the ball blue.');
    await page.keyboard.press('Control+Enter');
    await finishedRuns(page, 2);
    await expect.poll(() => page.getByRole('slider', { name: /Before and after/ }).count()).toBe(1);
    await app.screenshot('workspace-edit-compare');
  });

  test('a second run can be cancelled while the first is still going; it leaves no result', async () => {
    needModel();
    const { page } = app;
    await page.locator('body').click({ position: { x: 600, y: 20 } });
    await page.keyboard.press('Alt+1'); // Create: the text-to-image path, the input images stay unused
    await page.locator('#prompt').fill('A red cube on the table.');
    for (const [label, value] of [
      ['Width', '256'],
      ['Height', '256'],
    ]) {
      // big enough to still be running when cancelled
      await page.getByLabel(label!).fill(value!);
      await page.getByLabel(label!).press('Tab');
    }
    await setSmallRun(page, 200);
    await page.getByRole('button', { name: /^Generate/ }).click();
    await page.getByRole('button', { name: /^Generate/ }).click();
    const items = page.locator('.queue-item');
    await expect.poll(() => items.count()).toBe(4);
    await expect.poll(() => page.locator('.progress-stage img').count(), { timeout: 60_000 }).toBe(1); // a step preview
    await page.locator('.ws-side').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await app.screenshot('workspace-generating-queue');
    await items
      .first()
      .getByRole('button', { name: /^Cancel/ })
      .click(); // newest first: the second run
    await expect.poll(() => items.first().getAttribute('data-phase'), { timeout: 30_000 }).toBe('cancelled');
    await page.keyboard.press('Escape'); // and Esc cancels the one that is running
    await expect.poll(() => items.nth(1).getAttribute('data-phase'), { timeout: 30_000 }).toBe('cancelled');
    await page.keyboard.press('Control+2');
    expect(await page.getByRole('list', { name: 'Results' }).getByRole('listitem').count()).toBe(2);
  });

  test('history: re-run with the same recipe adds a result with the same seed', async () => {
    needModel();
    const { page } = app;
    const results = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
    await results.last().getByRole('button').click(); // the first result: the composition of two images
    const seedOf = () => page.locator('.recipe-table tr').filter({ hasText: 'Seed' }).locator('td').textContent();
    const seed = await seedOf();
    await app.screenshot('history-with-results');
    await page.getByRole('button', { name: 'Re-run' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Workspace' }).isVisible()).toBe(true);
    await finishedRuns(page, 3);
    await page.keyboard.press('Control+2');
    await expect.poll(() => results.count()).toBe(3);
    await results.first().getByRole('button').click();
    expect(await seedOf()).toBe(seed);
  });

  test('history: copy the recipe as JSON, and delete a result after confirming', async () => {
    needModel();
    const { page } = app;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: 'Copy recipe' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Copied' }).count()).toBe(1);
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText())) as Record<string, unknown>;
    // The re-run of the composition: its inputs reached the engine in the order they were put in (box, then ball).
    const [ball, box] = await smallScenes();
    expect(copied).toMatchObject({
      steps: 4,
      width: 64,
      height: 48,
      mode: 'compose',
      inputImages: [sha256(box!.buffer), sha256(ball!.buffer)],
    });

    const results = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Keep' }).click();
    expect(await results.count()).toBe(3);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => results.count()).toBe(2);
    expect(await page.locator('.history-thumb[aria-current="true"]').count()).toBe(1); // the neighbour is shown
  });
});
