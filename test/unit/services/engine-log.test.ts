import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openEngineLog } from '../../../src-main/services/runtime/engine-log.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'atelier-engine-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function append(path: string, text: string, maxBytes: number): Promise<void> {
  const log = openEngineLog(path, maxBytes);
  await new Promise<void>((resolve) => log.end(text, resolve));
}

test('a new log is created with its folder, and later starts append to it', async () => {
  const path = join(dir, 'logs', 'engine.log');
  await append(path, 'first run\n', 1000);
  await append(path, 'second run\n', 1000);
  const text = readFileSync(path, 'utf8');
  expect(text.match(/^--- engine started /gm)).toHaveLength(2);
  expect(text).toMatch(/first run\n[\s\S]*second run\n$/);
});

test('a log past its size is moved to .1, replacing the older one, and a fresh one begins', async () => {
  const path = join(dir, 'engine.log');
  writeFileSync(`${path}.1`, 'oldest\n');
  writeFileSync(path, 'x'.repeat(1001));
  await append(path, 'after rotation\n', 1000);
  expect(readFileSync(`${path}.1`, 'utf8')).toBe('x'.repeat(1001));
  expect(readFileSync(path, 'utf8')).toMatch(/^--- engine started [^\n]*\nafter rotation\n$/);
});
