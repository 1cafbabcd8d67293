import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../../../src-main/cli/run-cli.ts';
import { goldenDir } from '../../helpers/golden.ts';
import { writeRealConfigs } from '../engine/pipeline/real-configs.ts';

const work = mkdtempSync(join(tmpdir(), 'atelier-estimate-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const realDir = join(work, 'omnigen2-configs-only');
writeRealConfigs(realDir);

async function atelier(argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, {
    stdout: (t) => stdout.push(t),
    stderr: (t) => stderr.push(t),
    interactive: false,
    env: { ATELIER_USER_DATA: join(work, 'user-data') },
    cwd: work,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** The table row of one component: [params, weights, activations, peak]. */
function row(out: string, label: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith(label));
  if (!line) throw new Error(`no "${label}" row in:\n${out}`);
  return line
    .slice(22)
    .trim()
    .split(/\s{2,}/);
}

describe('atelier estimate', () => {
  test('the real model from its config.json files alone: a table per component and the total', async () => {
    const r = await atelier(['estimate', '--model', realDir, '--images', '3', '--gpu-memory', '24']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('3 reference images, DiT sequence 16504 tokens');
    expect(row(r.stdout, 'MLLM text')).toEqual(['3.09 B', '6.17 GB', '0.02 GB', '6.19 GB']);
    expect(row(r.stdout, 'DiT').slice(0, 2)).toEqual(['3.97 B', '7.93 GB']);
    expect(row(r.stdout, 'VAE encoder').slice(0, 2)).toEqual(['34.3 M', '0.07 GB']);
    expect(row(r.stdout, 'VAE decoder').slice(0, 2)).toEqual(['49.5 M', '0.10 GB']);
    expect(r.stdout).toMatch(
      /VAE in tiles \(chosen when a VAE stage would not fit; the fit lines below count it\): .*VAE decoder activations [\d.]+ GB instead of [\d.]+ GB/,
    );
    expect(row(r.stdout, 'total (one-at-a-time)')).toHaveLength(3);
    expect(r.stdout).toMatch(/^modes: all-resident [\d.]+ GB · one-at-a-time [\d.]+ GB · low-memory [\d.]+ GB$/m);
    expect(r.stdout).toMatch(/^This machine: [\d.]+ GB RAM \(os\.totalmem\)/m);
    expect(r.stdout).toMatch(
      /^GPU: 24\.00 GB as given by --gpu-memory; .* Does not fit \(peak [\d.]+ GB\); this would \([\d.]+ GB\): --memory-mode \S+ --precision fp16 --width \d+ --height \d+$/m,
    );
  });

  test('says when the GPU is unknown, and when a job fits it', async () => {
    const unknown = await atelier(['estimate', '--model', realDir]);
    expect(unknown.stdout).toContain('GPU: its memory cannot be read from Node; pass --gpu-memory GB');
    const fits = await atelier([
      'estimate',
      '--model',
      realDir,
      '--precision',
      'int4',
      '--memory-mode',
      'low-memory',
      '--attention',
      'fused',
      '--gpu-memory',
      '8',
    ]);
    expect(fits.stdout).toMatch(/^GPU: 8\.00 GB .* Fits \(peak [\d.]+ GB\)\.$/m);
    expect(fits.stdout).toContain('streaming its blocks two at a time (not implemented) would need');
  });

  test('the golden tiny model folder', async () => {
    const r = await atelier([
      'estimate',
      '--model',
      join(goldenDir(), 'e2e', 'model'),
      '--width',
      '64',
      '--height',
      '48',
      '--images',
      '1',
      '--chat',
      '--precision',
      'fp32',
    ]);
    expect(r.code).toBe(0);
    expect(row(r.stdout, 'DiT')[0]).toBe('241.4 k');
    expect(row(r.stdout, 'MLLM vision')[0]).toBe('83.6 k');
    expect(r.stdout).toContain('weights fp32 (VAE fp32), activations fp32');
    expect(r.stdout).toMatch(/Fits \(peak/);
  });

  test('bad arguments are usage errors', async () => {
    expect(await atelier(['estimate', '--model', realDir, '--precision', 'bf16'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--precision must be one of fp32, fp16, int8, int4/),
    });
    expect(await atelier(['estimate', '--model', realDir, '--images', '6'])).toMatchObject({ code: 2 });
    expect(await atelier(['estimate', '--model', join(work, 'nowhere')])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no model folder/),
    });
  });
});
