import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { sampleProject, tempDir, testApi, value } from './project-fixtures.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

test('a process killed (SIGKILL) in the middle of a save leaves the previous file byte-identical and openable', async () => {
  const { api } = testApi(join(dir, 'userData'));
  const { document, images } = sampleProject();
  await mkdir(join(dir, 'work'));
  const { path } = await value(api.saveAs({ path: join(dir, 'work', 'fox.atelier'), document, images }));
  const before = await readFile(path);

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'save-then-hang.ts'), path, join(dir, 'userData')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const outcome = await new Promise<string>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('mid-save')) {
        child.kill('SIGKILL');
        resolve('killed mid-save');
      }
    });
    child.on('exit', (code) => resolve(`exited by itself (code ${code}): ${stderr}`));
  });
  expect(outcome).toBe('killed mid-save');
  await new Promise((resolve) => child.once('exit', resolve));

  // The crash left a partial temp file beside the project; the project itself is untouched.
  const leftovers = (await readdir(join(dir, 'work'))).filter((n) => n.endsWith('.tmp'));
  expect(leftovers).toHaveLength(1);
  expect((await readFile(join(dir, 'work', leftovers[0]!))).length).toBeGreaterThan(0);
  expect(Buffer.compare(await readFile(path), before)).toBe(0);
  const next = testApi(join(dir, 'userData')).api;
  const reopened = await value(next.open(path));
  expect(reopened.document.workspace.prompt).toBe(document.workspace.prompt);

  // The next successful save of that file removes the dead process's temp file.
  await value(next.save({ document: reopened.document, images: [] }));
  expect(await readdir(join(dir, 'work'))).toEqual(['fox.atelier']);
}, 60_000);
