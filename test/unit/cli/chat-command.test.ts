import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import { goldenDir } from '../../helpers/golden.ts';

// The golden e2e model folder: a complete tiny OmniGen2 with random weights, so answers are gibberish but deterministic.
const modelDir = join(goldenDir(), 'e2e', 'model');

async function atelier(argv: string[], signal = new AbortController().signal) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), interactive: false, env: {}, cwd: dir, signal,
  });
  return { code, stdout, stderr: stderr.join('') };
}

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'atelier-chat-cli-')); });
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
    const args = ['chat', '--model', modelDir, '--temperature', '1', '--top-p', '0.95', '--seed', '3', '--max-tokens', '16', 'hello'];
    const first = await atelier(args);
    expect(first.code).toBe(0);
    expect(first.stdout.length).toBeGreaterThan(3);
    expect((await atelier(args)).stdout.join('')).toBe(first.stdout.join(''));
  });

  test('asks about an image file', async () => {
    const png = join(dir, 'picture.png');
    const pixels = Buffer.from(Array.from({ length: 70 * 42 * 3 }, (_, i) => (i * 53) % 256));
    await sharp(pixels, { raw: { width: 70, height: 42, channels: 3 } }).png().toFile(png);
    const { code, stdout, stderr } = await atelier(['chat', '--model', modelDir, '--image', 'picture.png', '--max-tokens', '4', 'Describe <img1>.']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.join('').length).toBeGreaterThan(1);
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
      expect(stderr).toBe(`atelier chat: the model folder ${partial} has no ${missing}/ folder; chat needs the multimodal model (mllm/) and its tokenizer (processor/)\n`);
    }
    expect((await atelier(['chat', '--model', join(dir, 'nowhere'), 'hi'])).stderr).toMatch(/no model folder at/);
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
