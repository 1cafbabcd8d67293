import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import type { CliContext } from '../../../src-main/cli/command.ts';
import { repoRoot } from '../../helpers/golden.ts';

function capture(): CliContext & { out: string; err: string } {
  const ctx = {
    out: '',
    err: '',
    interactive: false,
    env: {},
    cwd: repoRoot,
    signal: new AbortController().signal,
    stdout(t: string) {
      ctx.out += t;
    },
    stderr(t: string) {
      ctx.err += t;
    },
  };
  return ctx;
}

describe('atelier CLI', () => {
  test('--help lists the usage and exits 0', async () => {
    const ctx = capture();
    expect(await runCli(['--help'], ctx)).toBe(0);
    expect(ctx.out).toMatch(/Usage: atelier <command>/);
  });

  test('an unknown command exits 2 with a one-line message', async () => {
    const ctx = capture();
    expect(await runCli(['frobnicate'], ctx)).toBe(2);
    expect(ctx.err).toBe('atelier: unknown command "frobnicate". Run "atelier --help" for the list.\n');
  });

  test('the bin entry runs from a fresh install (through tsx)', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/atelier.js'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
