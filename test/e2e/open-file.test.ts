import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AppUnderTest, headlessUnavailable } from './harness/app-under-test.ts';
import { writeProjectFile } from './helpers/project-file.ts';

const unavailable = headlessUnavailable();
if (unavailable) console.warn(`[e2e] skipping the open-file suite: ${unavailable}`);

// The main process turns a double-clicked file (argv, second instance, macOS open-file) into this event
// (src-main/index.ts, tested in test/unit/electron/); here the window's side of it runs in the real interface.
describe.skipIf(unavailable !== null)('a project file the system asks to open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-open-'));
  let app: AppUnderTest | undefined;
  afterAll(async () => {
    await app?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('opens in the window on the workspace, and asks first when the open work has unsaved changes', async () => {
    app = await AppUnderTest.launch();
    const { page } = app;
    const workspace = page.getByRole('heading', { name: 'Workspace' });
    await page.keyboard.press('Control+3');
    await expect.poll(() => workspace.isVisible()).toBe(false);
    app.emit('project.openRequested', { path: writeProjectFile(dir, 'Lighthouse', 'A lighthouse at dusk') });
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Lighthouse');
    expect(await workspace.isVisible()).toBe(true);
    expect(await page.locator('#prompt').inputValue()).toBe('A lighthouse at dusk');

    await page.locator('#prompt').fill('A lighthouse in a storm');
    app.emit('project.openRequested', { path: writeProjectFile(dir, 'Harbour', 'A quiet harbour') });
    const unsaved = page.getByRole('dialog', { name: 'Save the changes to “Lighthouse”?' });
    await expect.poll(() => unsaved.isVisible()).toBe(true);
    expect(await page.getByTestId('project-name').textContent()).toBe('Lighthouse');
    await unsaved.getByRole('button', { name: 'Don’t save' }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Harbour');
    expect(await page.locator('#prompt').inputValue()).toBe('A quiet harbour');
  });
});
