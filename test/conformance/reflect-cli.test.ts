import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { ReflectionSession } from '../../src-main/ipc/contract.ts';
import { runCli } from '../../src-main/cli/run-cli.ts';
import { readRecipe } from '../../src-main/services/projects/png-recipe.ts';
import { reflection } from '../../src-main/services/projects/project-schema.ts';
import { goldenDir } from '../helpers/golden.ts';

// `atelier reflect` on the tiny golden model folder (random weights: the answers are meaningless, the files are not).
const modelDir = join(goldenDir(), 'e2e', 'model');
const dir = mkdtempSync(join(tmpdir(), 'atelier-reflect-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function atelier(argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    interactive: false,
    env: {},
    cwd: dir,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

// CPU pinned: on a machine with a WebGPU adapter, automatic selection would convert fp16 weights and compile shaders.
const FAST = ['--provider', 'cpu', '--model', modelDir, '--steps', '2', '--width', '64', '--height', '64'];

interface RoundsFile {
  version: number;
  session: ReflectionSession;
  checklist: { source: string; checks: { question: string; tag: string }[] };
  files: Record<string, string>;
}

function readRounds(out: string): RoundsFile {
  const record = JSON.parse(readFileSync(join(out, 'rounds.json'), 'utf8')) as RoundsFile;
  expect(() => reflection(record.session, 'rounds.json session')).not.toThrow();
  return record;
}

describe('atelier reflect', () => {
  test("writes every round's PNG with its recipe and a valid rounds.json; prints the checks, the rounds and the best", async () => {
    const out = join(dir, 'run');
    const r = await atelier([
      'reflect',
      ...FAST,
      '--prompt',
      'a photo of a red cup',
      '--max-rounds',
      '2',
      '--seed',
      '5',
      '--out-dir',
      'run',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^checks \(template\):\n {2}object +Is there a cup in the picture\?\n {2}color +Is the cup red\?\n/,
    );
    const { session, files, checklist } = readRounds(out);
    expect(checklist.source).toBe('template');
    expect(session.rounds.length).toBeGreaterThanOrEqual(1);
    expect(session.rounds.length).toBeLessThanOrEqual(3);
    expect(['done', 'max-rounds', 'no-progress', 'repeated-failures']).toContain(session.stopReason);
    expect(readdirSync(out).sort()).toEqual([...session.rounds.map((_, i) => `round-${i}.png`), 'rounds.json'].sort());
    session.rounds.forEach((round, i) => {
      expect(files[round.id]).toBe(`round-${i}.png`);
      expect(readRecipe(readFileSync(join(out, files[round.id]!)))).toMatchObject({
        prompt: round.text,
        seed: 5 + i,
        steps: 2,
        inputImages: round.inputImages,
      });
      expect(r.stdout).toContain(`round-${i}.png  ${round.score!.passed}/2 checks`);
    });
    const best = files[session.bestRoundId!]!;
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`best: ${join(out, best)} (stopped: ${session.stopReason})`);
  });

  test('--check replaces the checklist and --force sets the mode per revision', async () => {
    const out = join(dir, 'forced');
    const r = await atelier([
      'reflect',
      ...FAST,
      '--prompt',
      'a boat on a lake',
      '--check',
      'object | Is there a boat?',
      '--check',
      'attribute|Is the lake calm?',
      '--force',
      'edit',
      '--max-rounds',
      '1',
      '--threshold',
      '1',
      '--out-dir',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { session, checklist } = readRounds(out);
    expect(checklist).toEqual({
      source: 'user',
      checks: [
        { tag: 'object', question: 'Is there a boat?' },
        { tag: 'attribute', question: 'Is the lake calm?' },
      ],
    });
    expect(session.rounds.map((x) => x.mode)).toEqual(['generate', 'edit']);
    expect(session.rounds[0]!.fix).toEqual({
      raw: expect.any(String),
      parsed: expect.toBeOneOf([null, expect.any(String)]),
    });
    expect(session.rounds[1]!.inputImages).toEqual([session.rounds[0]!.outputImage]);
    expect(session.stopReason).toBe('max-rounds');
  });

  test.each([
    [['--model', modelDir, '--prompt', 'a cup'], /--out-dir DIR is required/],
    [
      ['--model', modelDir, '--prompt', 'a cup', '--out-dir', 'x', '--max-rounds', '6'],
      /--max-rounds must be a whole number from 0 to 5/,
    ],
    [
      ['--model', modelDir, '--prompt', 'a cup', '--out-dir', 'x', '--force', 'edit,paint'],
      /--force takes auto, edit or regenerate/,
    ],
    [
      ['--model', modelDir, '--prompt', 'a cup', '--out-dir', 'x', '--check', 'colour | Is it red?'],
      /--check must read "TAG \| question\?"/,
    ],
  ])('usage errors exit 2 with one line: %j', async (args, message) => {
    const r = await atelier(['reflect', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
