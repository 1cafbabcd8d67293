import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FORMAT_VERSION } from '../../../src-main/services/projects/project-format.ts';
import { flipByte, sampleProject, tempDir, testApi, value } from '../services/projects/project-fixtures.ts';

const BIN = join(import.meta.dirname, '../../../bin/atelier.js');

async function atelier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, ATELIER_DEBUG: '' },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let cleanup: () => Promise<void>;
let project: string;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const { api } = testApi(join(dir, 'userData'));
  const { document, images } = sampleProject();
  project = (await value(api.saveAs({ path: join(dir, 'fox.atelier'), document, images }))).path;
});
afterAll(async () => cleanup());

describe('atelier project info', () => {
  test('prints a JSON summary of a saved project', async () => {
    const { code, stdout, stderr } = await atelier('project', 'info', project);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({
      path: project,
      formatVersion: FORMAT_VERSION,
      sizeBytes: (await readFile(project)).length,
      createdAt: '2026-11-20T10:00:00.000Z',
      prompt: expect.stringContaining('fox'),
      counts: { inputs: 2, results: 2, history: 2, reflections: 1, rounds: 3, images: 4 },
    });
  });

  test.each([
    [
      'truncated file',
      (b: Buffer) => b.subarray(0, b.length - 7),
      /is damaged: it has \d+ bytes but was written with \d+; the end is missing/,
    ],
    [
      'corrupt file',
      (b: Buffer) => flipByte(b, -3, 0x40),
      /is damaged: image [0-9a-f]{64} .* does not match its checksum/,
    ],
    [
      'file from a newer version',
      (b: Buffer) => {
        const c = Buffer.from(b);
        c.writeUInt32LE(FORMAT_VERSION + 1, 12);
        return c;
      },
      new RegExp(
        `saved by a newer Atelier \\(project format ${FORMAT_VERSION + 1}\\); this version reads format ${FORMAT_VERSION}`,
      ),
    ],
  ])('rejects a %s with one line and exit 1, leaving it unchanged', async (kind, damage, message) => {
    const bad = join(dir, `${kind.replaceAll(' ', '-')}.atelier`);
    const bytes = damage(await readFile(project));
    await writeFile(bad, bytes);
    const { code, stdout, stderr } = await atelier('project', 'info', bad);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.startsWith('atelier project: ')).toBe(true);
    expect(Buffer.compare(await readFile(bad), bytes)).toBe(0);
  });

  test('a missing file exits 1; a wrong subcommand exits 2', async () => {
    expect(await atelier('project', 'info', join(dir, 'nope.atelier'))).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no file at/),
    });
    expect(await atelier('project', 'frobnicate')).toMatchObject({ code: 2 });
  });
});
