import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FakeHub, folderAsRepo } from '../helpers/fake-hub.ts';
import { goldenDir } from '../helpers/golden.ts';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the model manager suite: ${unavailable}`);

/**
 * The model manager screen against a local imitation of the hub that serves the tiny golden model under the
 * catalogue's name, throttled so that progress, pause and resume can be watched.
 */
describe.skipIf(unavailable !== null)('model manager in headless Chromium', () => {
  let app: AppUnderTest;
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await FakeHub.start({ 'OmniGen2/OmniGen2': folderAsRepo(join(goldenDir(), 'e2e/model')) });
    app = await AppUnderTest.launch();
  });
  afterAll(async () => {
    await app?.dispose();
    await hub?.close();
  });

  const card = () =>
    app.page.getByRole('listitem').filter({ has: app.page.getByRole('heading', { name: 'OmniGen2', exact: true }) });
  const state = () => card().getByTestId('model-state').textContent();
  const useHub = (url: string) => app.page.evaluate((hubEndpoint) => window.api.settings.update({ hubEndpoint }), url);

  test('a hub that cannot be reached is explained, and nothing is installed', async () => {
    const { page } = app;
    await useHub('http://127.0.0.1:9');
    await page.keyboard.press('Control+3');
    await page.getByRole('button', { name: /^Download OmniGen2/ }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 60_000 })
      .toMatch(/Downloading OmniGen2\/OmniGen2: /);
    expect(await page.getByRole('alert').textContent()).toMatch(/Check your connection|try again/i);
    expect(await state()).toMatch(/Not installed|Paused/);
    await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
  });

  test('download with live progress, pause, resume, and the model ends ready', async () => {
    await useHub(hub.url);
    hub.throttle = { bytes: 8 * 1024, everyMs: 20 };
    await card()
      .getByRole('button', { name: /Download|Resume/ })
      .click();
    await expect.poll(() => state(), { timeout: 30_000 }).toBe('Downloading');
    await expect.poll(() => card().locator('.file-list li').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(
        () =>
          card()
            .getByText(/^[1-9][\d.]* (KB|MB) of /)
            .count(),
        { timeout: 30_000 },
      )
      .toBe(1);
    await app.screenshot('models-downloading');
    await card().getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => state(), { timeout: 30_000 }).toBe('Paused');
    await app.screenshot('models-paused');
    hub.throttle = null;
    await card().getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => state(), { timeout: 60_000 }).toBe('Ready');
    expect(hub.requests.some((r) => r.range !== null)).toBe(true); // the resume continued where it stopped
    await app.screenshot('models-ready');
  });

  test('with a model ready the workspace no longer asks for one', async () => {
    const { page } = app;
    await page.keyboard.press('Control+1');
    await expect.poll(() => page.locator('#generate-reason').textContent()).toMatch(/Describe the image you want/);
    expect(await page.getByRole('heading', { name: 'One step before your first image' }).count()).toBe(0);
    await page.keyboard.press('Control+3');
  });

  test('verify re-checks the files; remove asks first, counting the converted weights, and returns to the first-run screen', async () => {
    const { page } = app;
    // Weights converted for this machine, as the engine leaves them in a managed model folder (3 MB of fp16).
    const cache = join(app.userData, 'models', 'OmniGen2--OmniGen2', '.atelier-cache', 'transformer-float16');
    mkdirSync(cache, { recursive: true });
    writeFileSync(join(cache, 'diffusion_pytorch_model.safetensors'), Buffer.alloc(3_000_000));
    await card().getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => card().getByRole('button', { name: 'Verify' }).isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(await state()).toBe('Ready');
    await expect
      .poll(() =>
        card()
          .getByText(/\+ 3(\.0)? MB of weights converted for this computer/)
          .isVisible(),
      )
      .toBe(true);
    await card().getByRole('button', { name: 'Remove…' }).click();
    expect(
      await card()
        .getByText(/Delete .* from disk\?/)
        .isVisible(),
    ).toBe(true);
    await card().getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => state(), { timeout: 30_000 }).toBe('Not installed');
    expect(await page.getByRole('heading', { name: 'Set up OmniGen2' }).isVisible()).toBe(true);
  });
});
