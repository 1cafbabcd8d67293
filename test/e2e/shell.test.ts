import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the headless suite: ${unavailable}`);

describe.skipIf(unavailable !== null)('app shell in headless Chromium', () => {
  let app: AppUnderTest;
  beforeAll(async () => {
    app = await AppUnderTest.launch();
  });
  afterAll(async () => {
    await app?.dispose();
  });

  test('opens on the workspace with the main regions reachable', async () => {
    const { page } = app;
    await expect.poll(() => page.getByRole('heading', { name: 'Workspace' }).isVisible()).toBe(true);
    for (const name of ['Workspace', 'History', 'Models']) {
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name }).isVisible()).toBe(true);
    }
    await expect.poll(() => page.getByText('Models folder:').isVisible()).toBe(true);
    await app.screenshot('shell-workspace');
  });

  test('keyboard shortcuts switch views', async () => {
    const { page } = app;
    await page.keyboard.press('Control+2');
    await expect.poll(() => page.getByRole('heading', { name: 'History' }).isVisible()).toBe(true);
    await page.keyboard.press('Control+3');
    await expect.poll(() => page.getByRole('heading', { name: 'Models' }).isVisible()).toBe(true);
  });

  test('the engine check runs a real ONNX Runtime session in the engine host and reports progress', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Run engine check' }).click();
    await expect
      .poll(() => page.getByTestId('probe-result').textContent(), { timeout: 60_000 })
      .toMatch(/Engine ready: 20 runs on cpu/);
    await app.screenshot('models-engine-check');
  });

  test('the theme setting switches to dark and is stored', async () => {
    const { page } = app;
    await page.getByLabel('Theme').selectOption('dark');
    await expect.poll(() => page.locator('.shell').getAttribute('data-theme')).toBe('dark');
    expect(app.services.contract).toBeDefined();
    const stored = await page.evaluate(() => window.api.settings.get());
    expect(stored).toMatchObject({ ok: true, value: { theme: 'dark' } });
    await app.screenshot('shell-dark');
  });

  test('an invalid payload from the page gets a typed error, not a crash', async () => {
    const { page } = app;
    const r = await page.evaluate(() => window.api.settings.update({ theme: 'purple' as never }));
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const again = await page.evaluate(() => window.api.app.info());
    expect(again.ok).toBe(true);
  });
});
