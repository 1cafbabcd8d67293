import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { goldenDir } from '../../helpers/golden.ts';

/** The tiny OmniGen2 of the golden data: the released folder layout with seeded random weights. */
export const TINY_MODEL = join(goldenDir(), 'e2e/model');
export const TINY_REPO = 'atelier-tests/omnigen2-tiny';

/**
 * Polls `check` until it answers true; a string answer is a failure the user can see (an error banner, a failed
 * run), reported at once with its text instead of after a timeout.
 */
export async function until(
  check: () => Promise<true | string | null>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const answer = await check();
    if (answer === true) return;
    if (typeof answer === 'string') throw new Error(`${what}: ${answer}`);
    if (Date.now() > end) throw new Error(`${what}: nothing happened within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until `expected` runs are done; a failed run fails the test with the message shown in the queue. */
export function finishedRuns(page: Page, expected: number): Promise<void> {
  return until(
    async () => {
      const failure = page.locator('.queue-item[data-phase="failed"] .queue-error');
      if (await failure.count()) return (await failure.first().textContent()) ?? 'failed';
      return (await page.locator('.queue-item[data-phase="done"]').count()) >= expected ? true : null;
    },
    150_000,
    'generation',
  );
}

/**
 * Imports the tiny model through the Models screen, waits until its card says Ready (an error shown instead fails
 * at once with its text) and returns to the workspace. `enterFolder` puts TINY_MODEL in the Folder field (default:
 * typed in; the projects suite goes through the Browse… dialog instead).
 */
export async function importTinyModel(
  page: Page,
  enterFolder = () => page.getByLabel('Folder').fill(TINY_MODEL),
): Promise<void> {
  await page.keyboard.press('Control+3');
  await enterFolder();
  await page.getByLabel(/Repository id/).fill(TINY_REPO);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: TINY_REPO }) });
  await until(
    async () => {
      const alert = page.getByRole('alert');
      if (await alert.count()) return (await alert.first().textContent()) ?? 'error';
      return (await card
        .getByTestId('model-state')
        .textContent()
        .catch(() => null)) === 'Ready'
        ? true
        : null;
    },
    60_000,
    'import',
  );
  await page.keyboard.press('Control+1');
}
