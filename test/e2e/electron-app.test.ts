import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/golden.ts';

// The Electron binary is downloaded lazily on first use (Electron ≥ 42) and cannot be fetched on machines
// without internet access: this suite runs wherever it has been installed (`npx install-electron`).
const hasBinary = existsSync(join(repoRoot, 'node_modules/electron/path.txt'));
if (!hasBinary) console.warn('[e2e] skipping the Electron suite: the Electron binary is not installed (node_modules/electron/path.txt missing)');

describe.skipIf(!hasBinary)('the real Electron app', () => {
  test('starts one sandboxed window showing the workspace, with window.api and no Node in the page', async () => {
    const app = await electron.launch({ args: [repoRoot], cwd: repoRoot });
    try {
      const page = await app.firstWindow();
      await expect.poll(() => page.getByRole('heading', { name: 'Workspace' }).isVisible()).toBe(true);
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof window.api.app.info)).toBe('function');
      const info = await page.evaluate(() => window.api.app.info());
      expect(info).toMatchObject({ ok: true, value: { shell: 'electron' } });
      expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
      await page.screenshot({ path: join(repoRoot, 'test-results/screenshots/electron-workspace.png') });
    } finally {
      await app.close();
    }
  });
});
