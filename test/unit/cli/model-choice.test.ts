import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import { REGISTRY_FILE } from '../../../src-main/services/models/registry.ts';
import { goldenDir } from '../../helpers/golden.ts';

// `--model` in every command that runs a model: an installed model's repo id or a folder, and without it the
// model the app would run. Each case has its own user-data folder, so the models folder is empty until imported.
const TINY = join(goldenDir(), 'e2e', 'model');
const work = mkdtempSync(join(tmpdir(), 'atelier-model-choice-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A fresh user-data folder (settings, the default models folder) and a working directory. */
function home(): { userData: string; cwd: string; modelsDir: string } {
  const userData = join(work, `home-${n++}`);
  return { userData, cwd: work, modelsDir: join(userData, 'models') };
}

async function atelier(h: { userData: string; cwd: string }, argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    interactive: false,
    env: { ATELIER_USER_DATA: h.userData },
    cwd: h.cwd,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

async function importAs(h: ReturnType<typeof home>, repo: string): Promise<string> {
  const r = await atelier(h, ['models', 'import', TINY, '--repo', repo]);
  expect(r.code, r.stderr).toBe(0);
  return join(h.modelsDir, repo.replace('/', '--'));
}

const ESTIMATE = ['estimate', '--width', '64', '--height', '48', '--precision', 'fp32'];

describe('--model finds models the way the app does', () => {
  let one: ReturnType<typeof home>;
  let folder: string;
  beforeAll(async () => {
    one = home();
    folder = await importAs(one, 'acme/tiny');
  });

  test('the repo id of an installed model names its folder in the models folder', async () => {
    const r = await atelier(one, [...ESTIMATE, '--model', 'acme/tiny']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(folder);
  });

  test('without --model the only ready model is used, by estimate and chat alike', async () => {
    const r = await atelier(one, ESTIMATE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(folder);
    const chat = await atelier(one, ['chat', '--temperature', '0', '--max-tokens', '2', 'hello']);
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout.length).toBeGreaterThan(0);
  });

  test('a folder still works, relative to the working directory or absolute', async () => {
    expect((await atelier(one, [...ESTIMATE, '--model', TINY])).stdout).toContain(TINY);
    const relative = await atelier({ ...one, cwd: join(TINY, '..') }, [...ESTIMATE, '--model', 'model']);
    expect(relative.code, relative.stderr).toBe(0);
    expect(relative.stdout).toContain(TINY);
  });

  test('an id that is neither installed nor a folder says both, in one line', async () => {
    const r = await atelier(one, [...ESTIMATE, '--model', 'acme/other']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^atelier estimate: acme\/other is not installed in .*models, and there is no folder .*acme\/other; install it \(atelier models download acme\/other\) or give a model folder\n$/,
    );
  });

  test('a model that is not ready is refused by its id, with what to do', async () => {
    const h = home();
    await importAs(h, 'acme/paused');
    const registry = join(h.modelsDir, REGISTRY_FILE);
    const data = JSON.parse(readFileSync(registry, 'utf8')) as { models: { state: string }[] };
    data.models[0]!.state = 'paused';
    writeFileSync(registry, JSON.stringify(data));
    const named = await atelier(h, [...ESTIMATE, '--model', 'acme/paused']);
    expect(named).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /acme\/paused in .* is not completely downloaded \(paused\); resume it with atelier models download acme\/paused\n$/,
      ),
    });
    const unnamed = await atelier(h, ESTIMATE);
    expect(unnamed).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no model in .* is ready to run \(acme\/paused, paused\)/),
    });
  });
});

describe('the default model', () => {
  test('with several ready models OmniGen2 is chosen; without it the choice is refused, naming them', async () => {
    const h = home();
    await importAs(h, 'acme/one');
    await importAs(h, 'acme/two');
    const ambiguous = await atelier(h, ESTIMATE);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(
      /^atelier estimate: 2 models are installed in .* \(acme\/one, acme\/two\); choose one with --model REPO\n$/,
    );
    const official = await importAs(h, 'OmniGen2/OmniGen2');
    const r = await atelier(h, ESTIMATE);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(official);
  });

  test.each([
    ['generate', ['generate', '--prompt', 'a cup']],
    ['reflect', ['reflect', '--prompt', 'a cup', '--out-dir', 'rounds']],
    ['chat', ['chat', 'what is this?']],
    ['estimate', ['estimate']],
  ])('%s with nothing installed says how to get a model, in one line', async (command, argv) => {
    const r = await atelier(home(), argv);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^atelier ${command}: no model is installed in .*models; download one \\(atelier models download OmniGen2/OmniGen2\\), import a folder \\(atelier models import FOLDER\\), or give --model DIR\\n$`,
      ),
    );
  });
});
