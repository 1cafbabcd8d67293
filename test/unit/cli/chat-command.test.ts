import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import { readRecipe } from '../../../src-main/services/projects/png-recipe.ts';
import { goldenDir } from '../../helpers/golden.ts';

// The golden e2e model folder: a complete tiny OmniGen2 with random weights, so answers are gibberish but deterministic.
const modelDir = join(goldenDir(), 'e2e', 'model');

async function atelier(argv: string[], signal = new AbortController().signal, stdin?: string) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    interactive: false,
    env: { ATELIER_USER_DATA: join(dir, 'user-data') },
    cwd: dir,
    signal,
    ...(stdin !== undefined ? { stdin: async () => stdin } : {}),
  });
  // Every run first says where it runs (the provider line, as atelier generate does); the tests below look at the rest.
  const [, provider = null, rest = ''] = /^(Running on [^\n]*\n)?([\s\S]*)$/.exec(stderr.join('')) ?? [];
  return { code, stdout, stderr: rest, provider };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'atelier-chat-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atelier chat', () => {
  test('streams an answer and exits 0; greedy answers repeat exactly', async () => {
    const args = ['chat', '--model', modelDir, '--temperature', '0', '--max-tokens', '10', 'What is in the picture?'];
    const first = await atelier(args);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout.join('').length).toBeGreaterThan(1);
    expect(first.stdout.at(-1)).toBe('\n');
    expect((await atelier(args)).stdout.join('')).toBe(first.stdout.join(''));
  });

  test('sampled answers stream in several writes, reproducibly for one seed', async () => {
    const args = [
      'chat',
      '--model',
      modelDir,
      '--temperature',
      '1',
      '--top-p',
      '0.95',
      '--seed',
      '3',
      '--max-tokens',
      '16',
      'hello',
    ];
    const first = await atelier(args);
    expect(first.code).toBe(0);
    expect(first.stdout.length).toBeGreaterThan(3);
    expect((await atelier(args)).stdout.join('')).toBe(first.stdout.join(''));
  });

  test('asks about an image file', async () => {
    const png = join(dir, 'picture.png');
    const pixels = Buffer.from(Array.from({ length: 70 * 42 * 3 }, (_, i) => (i * 53) % 256));
    await sharp(pixels, { raw: { width: 70, height: 42, channels: 3 } })
      .png()
      .toFile(png);
    const { code, stdout, stderr } = await atelier([
      'chat',
      '--model',
      modelDir,
      '--image',
      'picture.png',
      '--max-tokens',
      '4',
      'Describe <img1>.',
    ]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.join('').length).toBeGreaterThan(1);
  });

  test('multi-turn from a file or stdin: each line answered in turn, the earlier turns in context', async () => {
    writeFileSync(join(dir, 'conversation.txt'), 'What is in image 1?\n\nAnd its colour?\n');
    const png = join(dir, 'turns.png');
    await sharp(Buffer.alloc(56 * 56 * 3, 90), { raw: { width: 56, height: 56, channels: 3 } })
      .png()
      .toFile(png);
    const fromFile = await atelier([
      'chat',
      '--model',
      modelDir,
      '--image',
      'turns.png',
      '--max-tokens',
      '3',
      '--input',
      'conversation.txt',
    ]);
    expect({ code: fromFile.code, stderr: fromFile.stderr }).toEqual({ code: 0, stderr: '' });
    const out = fromFile.stdout.join('');
    expect(out.startsWith('> What is in image 1?\n')).toBe(true);
    expect(out).toContain('\n> And its colour?\n');
    const fromStdin = await atelier(
      ['chat', '--model', modelDir, '--image', 'turns.png', '--max-tokens', '3', '--input', '-'],
      undefined,
      'What is in image 1?\nAnd its colour?\n',
    );
    expect(fromStdin.stdout.join('')).toBe(out);
    // The second answer depends on the first turn: alone, the same question is answered from a shorter prompt.
    const sampled = [
      'chat',
      '--model',
      modelDir,
      '--image',
      'turns.png',
      '--max-tokens',
      '3',
      '--temperature',
      '1',
      '--seed',
      '1',
      '--input',
      '-',
    ];
    const alone = await atelier(sampled, undefined, 'And its colour?\n');
    const inContext = await atelier(sampled, undefined, 'What is in image 1?\nAnd its colour?\n');
    expect(inContext.stdout.join('').split('> And its colour?\n')[1]).not.toBe(
      alone.stdout.join('').split('> And its colour?\n')[1] ?? alone.stdout.join(''),
    );
    expect((await atelier(['chat', '--model', modelDir, '--input', '-'], undefined, '\n\n')).code).toBe(2);
  });

  test('--draw answers the last message with a picture that carries its recipe, conversation included', async () => {
    const { code, stdout, stderr } = await atelier(
      [
        'chat',
        '--model',
        modelDir,
        '--max-tokens',
        '2',
        '--draw',
        '--steps',
        '2',
        '--width',
        '64',
        '--height',
        '48',
        '--seed',
        '5',
        '--out',
        'drawn.png',
        '--input',
        '-',
      ],
      undefined,
      'What is a cube?\nDraw a red cube.\n',
    );
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/error|cannot/i);
    expect(stdout.join('')).toContain(`<|img|> ${join(dir, 'drawn.png')}\n`);
    expect(await sharp(join(dir, 'drawn.png')).metadata()).toMatchObject({ format: 'png', width: 64, height: 48 });
    const recipe = readRecipe(readFileSync(join(dir, 'drawn.png')));
    expect(recipe).toMatchObject({
      prompt: 'Draw a red cube.',
      seed: 5,
      steps: 2,
      chat: { history: [{ role: 'user', text: 'What is a cube?' }, { role: 'assistant' }] },
    });
  });

  test('a model folder without mllm/ or processor/ is a one-line error', async () => {
    for (const missing of ['mllm', 'processor']) {
      const partial = join(dir, `no-${missing}`);
      for (const sub of ['mllm', 'processor'].filter((s) => s !== missing)) {
        mkdirSync(join(partial, sub), { recursive: true });
        for (const f of readdirSync(join(modelDir, sub))) copyFileSync(join(modelDir, sub, f), join(partial, sub, f));
      }
      const { code, stderr } = await atelier(['chat', '--model', partial, 'hi']);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `atelier chat: the model folder ${partial} has no ${missing}/ folder; chat needs the multimodal model (mllm/) and its tokenizer (processor/)\n`,
      );
    }
    expect((await atelier(['chat', '--model', join(dir, 'nowhere'), 'hi'])).stderr).toMatch(/no model folder at/);
  });

  test('--provider is honoured and the choice printed first on stderr', async () => {
    const run = await atelier(['chat', '--provider', 'cpu', '--model', modelDir, '--max-tokens', '2', 'hi']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.provider).toMatch(/^Running on CPU \(.+\)\n$/);
    expect((await atelier(['chat', '--provider', 'abacus', '--model', modelDir, 'hi'])).code).toBe(2);
  });

  test('usage errors exit 2', async () => {
    expect((await atelier(['chat', '--model', modelDir])).code).toBe(2);
    expect((await atelier(['chat', '--model', modelDir, '--temperature', '-1', 'hi'])).code).toBe(2);
    expect((await atelier(['chat', '--model', modelDir, '--top-p', '0', 'hi'])).code).toBe(2);
    expect((await atelier(['chat', '--help'])).stdout.join('')).toMatch(/^Usage: atelier chat \[--model REPO\|DIR\]/);
  });

  test('Ctrl-C cancels cleanly with exit 130', async () => {
    const controller = new AbortController();
    controller.abort();
    const { code, stderr } = await atelier(['chat', '--model', modelDir, 'hi'], controller.signal);
    expect({ code, stderr }).toEqual({ code: 130, stderr: 'atelier chat: cancelled\n' });
  });
});
