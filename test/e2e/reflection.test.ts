import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { importTinyModel, until } from './helpers/tiny-model.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the reflection suite: ${unavailable}`);

async function fillNumber(page: Page, label: string, value: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByLabel(label, { exact: true }).press('Tab');
}

// The tiny model's answers are meaningless but deterministic: these tests check the structure, not the verdicts.
describe.skipIf(unavailable !== null)('check & refine with the tiny golden model', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.launch();
  });
  afterAll(async () => {
    await app?.dispose();
  });

  test('a run shows its filmstrip: rounds with checks, the action taken, the best round starred, the checklist', async () => {
    const { page } = app;
    await importTinyModel(page);

    await page.locator('#prompt').fill('A red car on a road');
    await fillNumber(page, 'Width', '64');
    await fillNumber(page, 'Height', '64');
    await page.locator('details.advanced summary').click();
    await fillNumber(page, 'Steps value', '2');
    await fillNumber(page, 'Revisions value', '1');
    await fillNumber(page, 'Pass threshold value', '0.95'); // strict, so that round 0 fails and a revision runs
    await page.getByRole('button', { name: 'Check & refine' }).click();

    const strip = page.getByRole('region', { name: /^Check and refine: A red car on a road/ });
    await expect.poll(() => strip.count(), { timeout: 30_000 }).toBe(1);
    await until(
      async () => {
        const phase = await strip.getAttribute('data-phase');
        if (phase === 'failed') return (await strip.getByRole('alert').textContent()) ?? 'failed';
        return phase === 'finished' ? true : null;
      },
      240_000,
      'reflection',
    );

    const rounds = strip.getByRole('list', { name: 'Rounds' }).getByRole('button');
    const count = await rounds.count();
    expect(count).toBe(2);
    for (let i = 0; i < count; i++) {
      expect(await rounds.nth(i).textContent()).toMatch(/\d+\/\d+ checks/);
      expect(await rounds.nth(i).getAttribute('aria-label')).toMatch(
        new RegExp(`^Round ${i}\\. \\d+/\\d+ checks\\. (Generate|Edit|Regenerate)`),
      );
    }
    expect(await rounds.first().textContent()).toMatch(/Generate, seed \d+/);
    expect(await strip.getByTitle('Best round').count()).toBe(1);

    await page.setViewportSize({ width: 1280, height: 1000 }); // room for the strip and the expanded round together
    await rounds.last().click();
    const checklist = strip.getByRole('list', { name: /^Checklist of round/ });
    expect(await checklist.getByRole('meter').count()).toBeGreaterThanOrEqual(1);
    expect(await strip.getByRole('button', { name: 'Continue from here' }).isEnabled()).toBe(true);
    await app.screenshot('reflection-filmstrip');

    await page.keyboard.press('Control+2');
    const session = page.getByRole('list', { name: 'Rounds of “A red car on a road”' });
    await expect.poll(() => session.getByRole('listitem').count()).toBe(count);
    await app.screenshot('reflection-history-timeline');
  });
});
