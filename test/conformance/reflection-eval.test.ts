import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { goldenDir, repoRoot } from '../helpers/golden.ts';

// The evaluation harness is meant for the real weights on a GPU (scripts/reflection-eval/README.md); this runs it
// end to end on the tiny golden model so it stays runnable: every arm, the judge, GenEval's layout and the report.
const out = mkdtempSync(join(tmpdir(), 'atelier-reflection-eval-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('run-eval runs every arm on one prompt and writes results, images in GenEval layout and the report', () => {
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'scripts/reflection-eval/run-eval.ts'),
      '--model',
      join(goldenDir(), 'e2e', 'model'),
      '--out',
      out,
      '--tags',
      'color_attr',
      '--limit',
      '1',
      '--steps',
      '1',
      '--size',
      '64',
      '--max-revisions',
      '1',
      '--arms',
      'round0,loop,best-of-n,best-of-n+loop',
      // CPU pinned: automatic selection would pick WebGPU where an adapter exists (fp16 caches, shader compilation).
      '--provider',
      'cpu',
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  const records = readFileSync(join(out, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { arm: string; file: string; questions: unknown[] });
  expect(records.map((r) => r.arm)).toEqual(['round0', 'loop', 'best-of-n', 'best-of-n+loop']);
  for (const r of records) {
    expect(existsSync(join(out, r.file)), r.file).toBe(true);
    expect(r.questions).toHaveLength(4); // two objects, two colours
  }
  expect(JSON.parse(readFileSync(join(out, 'geneval/loop/00035/metadata.jsonl'), 'utf8'))).toMatchObject({
    tag: 'color_attr',
    include: [{ color: 'red' }, { color: 'blue' }],
  });
  expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/## Ship rule/);
});
