import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/golden.ts';
import { writeProjectFile } from './helpers/project-file.ts';

// The Electron binary is downloaded lazily on first use (Electron ≥ 42) and cannot be fetched on machines
// without internet access: this suite runs wherever it has been installed (`npx install-electron`).
const hasBinary = existsSync(join(repoRoot, 'node_modules/electron/path.txt'));
if (!hasBinary)
  console.warn(
    '[e2e] skipping the Electron suite: the Electron binary is not installed (node_modules/electron/path.txt missing)',
  );

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

  test('a project named at launch opens in the new window; one from a second instance opens in that same window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-electron-open-'));
    const app = await electron.launch({
      args: [repoRoot, writeProjectFile(dir, 'Lighthouse', 'A lighthouse at dusk')],
      cwd: repoRoot,
    });
    try {
      const page = await app.firstWindow();
      const projectName = () => page.getByTestId('project-name').textContent();
      await expect.poll(projectName, { timeout: 30_000 }).toBe('Lighthouse');
      // A second launch, as a double-click does on Windows and Linux: it hands its argv over and quits.
      const electronBinary = await app.evaluate(() => process.execPath);
      const second = spawn(electronBinary, [repoRoot, writeProjectFile(dir, 'Harbour', 'A quiet harbour')], {
        cwd: repoRoot,
        stdio: 'ignore',
      });
      await new Promise((resolve) => second.on('exit', resolve));
      await expect.poll(projectName, { timeout: 30_000 }).toBe('Harbour');
      expect(await page.locator('#prompt').inputValue()).toBe('A quiet harbour');
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
