import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import { ModelManager } from '../../../src-main/services/models/model-manager.ts';
import { FakeHub, folderAsRepo } from '../../helpers/fake-hub.ts';
import { goldenDir, repoRoot } from '../../helpers/golden.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const REPO = 'OmniGen2/OmniGen2';
const FILES = folderAsRepo(join(goldenDir(), 'e2e', 'model'));
const WEIGHTS = 'transformer/diffusion_pytorch_model.safetensors';

let hub: FakeHub;
let work: string;
let modelsDir: string;

beforeEach(async () => {
  hub = await FakeHub.start({ [REPO]: FILES });
  work = await mkdtemp(join(tmpdir(), 'atelier-cli-models-'));
  modelsDir = join(work, 'models');
});
afterEach(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWithSignal(new AbortController().signal, ...argv);
}

async function cliWithSignal(
  signal: AbortSignal,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['models', ...argv], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    interactive: false,
    env: { ATELIER_USER_DATA: work },
    cwd: work,
    signal,
  });
  return { code, stdout, stderr };
}

async function largestPart(): Promise<number> {
  const dir = join(modelsDir, 'OmniGen2--OmniGen2');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries
      .filter((e) => e.name.endsWith('.part'))
      .map((e) =>
        stat(join(e.parentPath, e.name)).then(
          (s) => s.size,
          () => 0,
        ),
      ),
  );
  return Math.max(0, ...sizes);
}

describe('atelier models (in process)', () => {
  test('list shows the catalogue entry as not installed', async () => {
    const { code, stdout } = await cli('list', '--dir', modelsDir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/OmniGen2\/OmniGen2\s+not-installed\s+~16\.0 GB/);
  });

  test('download, verify, damage, verify again, remove: exit codes and one-line messages', async () => {
    const down = await cli('download', REPO, '--endpoint', hub.url, '--dir', modelsDir);
    expect(down).toMatchObject({ code: 0 });
    expect(down.stdout).toMatch(/OmniGen2\/OmniGen2 is ready: .*every file verified/);
    expect(down.stderr).toMatch(/downloading \d+\/\d+ files \[/);
    const folder = join(modelsDir, 'OmniGen2--OmniGen2');
    expect(await cli('verify', folder)).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/all 12 files verified/),
    });
    const path = join(folder, WEIGHTS);
    const bytes = await readFile(path);
    bytes[4096]! ^= 0x40;
    await rm(path);
    await writeFile(path, bytes);
    const bad = await cli('verify', folder);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n').at(-1)).toMatch(
      /^atelier models: OmniGen2\/OmniGen2 is damaged: 1 file\(s\) missing or altered: transformer\/diffusion_pytorch_model\.safetensors; run atelier models download/,
    );
    expect(await cli('download', REPO, '--endpoint', hub.url, '--dir', modelsDir)).toMatchObject({ code: 0 });
    expect(await cli('verify', REPO, '--dir', modelsDir)).toMatchObject({ code: 0 });
    expect(await cli('remove', REPO, '--dir', modelsDir)).toMatchObject({ code: 0 });
    expect((await cli('list', '--dir', modelsDir)).stdout).toMatch(/not-installed/);
  });

  test('Ctrl-C pauses the download (exit 130, partial files kept) and the same command resumes it', async () => {
    hub.throttle = { bytes: 8 * 1024, everyMs: 10 };
    const interrupt = new AbortController();
    void waitFor(async () => (await largestPart()) > 0, 'a .part file', 20_000).then(() => interrupt.abort());
    const paused = await cliWithSignal(interrupt.signal, 'download', REPO, '--endpoint', hub.url, '--dir', modelsDir);
    expect(paused.code).toBe(130);
    expect(paused.stderr).toMatch(/paused \(.* of .* kept\); run the same command again to resume/);
    expect((await cli('list', '--dir', modelsDir)).stdout).toMatch(/OmniGen2\/OmniGen2\s+paused/);
    hub.throttle = null;
    expect(await cli('download', REPO, '--endpoint', hub.url, '--dir', modelsDir)).toMatchObject({ code: 0 });
  });

  test('usage mistakes exit 2, failures exit 1, each with one line', async () => {
    expect(await cli('download')).toMatchObject({ code: 2, stderr: expect.stringMatching(/exactly one argument/) });
    expect(await cli('fetch')).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown subcommand "fetch"/) });
    expect(await cli('download', 'not a repo', '--dir', modelsDir)).toMatchObject({ code: 2 });
    expect(await cli('download', REPO, '--token-env', 'NO_SUCH_VAR', '--dir', modelsDir)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/NO_SUCH_VAR is empty/),
    });
    const missing = await cli('download', 'nobody/nothing', '--endpoint', hub.url, '--dir', modelsDir);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n').at(-1)).toMatch(
      /^atelier models: revision "main" of nobody\/nothing was not found \(HTTP 404/,
    );
    expect(await cli('remove', REPO, '--dir', modelsDir)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/not installed/),
    });
  });
});

describe('atelier models download as a process', () => {
  const children = new Set<ChildProcess>();
  afterEach(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  function start(): { child: ChildProcess; exit: Promise<number | null>; output: () => string } {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'atelier.js'), 'models', 'download', REPO, '--endpoint', hub.url, '--dir', modelsDir],
      {
        env: { PATH: process.env.PATH, ATELIER_USER_DATA: work },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.add(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d));
    child.stderr!.on('data', (d: Buffer) => (output += d));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exit, output: () => output };
  }

  test('SIGKILL mid-download, then a restart resumes with a Range request and ends verified', async () => {
    hub.throttle = { bytes: 8 * 1024, everyMs: 10 }; // ~0.8 MB/s per connection: the kill lands mid-file
    const first = start();
    await waitFor(async () => (await largestPart()) >= 256 * 1024, 'a .part file with flushed bytes', 20_000);
    first.child.kill('SIGKILL');
    expect(await first.exit).toBeNull(); // killed, no chance to clean up
    expect(hub.requests.some((r) => r.range !== null)).toBe(false);

    hub.throttle = null;
    const second = start();
    expect(await second.exit, second.output()).toBe(0);
    expect(second.output()).toMatch(/is ready/);
    const resumed = hub.requests.filter((r) => r.range !== null && r.status !== 302); // body requests, not the redirects
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.every((r) => r.status === 206 && Number(/bytes=(\d+)-/.exec(r.range!)![1]) > 0)).toBe(true);
    const model = await new ModelManager({ modelsDir, hub: () => ({ endpoint: hub.url }) }).verify(REPO);
    expect(model).toMatchObject({ state: 'ready', fileCount: FILES.length });
  }, 60_000);
});
