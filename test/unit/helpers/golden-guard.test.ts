import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { repoGoldenDir } from '../../helpers/golden.ts';
import setup, { guardedRoots, watchGolden } from '../../helpers/golden-guard.ts';

const saved = process.env.ATELIER_GOLDEN_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.ATELIER_GOLDEN_DIR;
  else process.env.ATELIER_GOLDEN_DIR = saved;
});

describe('golden guard', () => {
  test('passes when nothing changed and names a file a test wrote into the golden folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-guard-'));
    try {
      writeFileSync(join(dir, 'a.json'), '{}');
      process.env.ATELIER_GOLDEN_DIR = dir;
      expect(() => setup()()).not.toThrow();
      const teardown = setup();
      writeFileSync(join(dir, 'cache.bin'), 'x');
      expect(() => teardown()).toThrow(/modified the golden data .*cache\.bin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('watches the repository copy by default and both folders under an override', () => {
    delete process.env.ATELIER_GOLDEN_DIR;
    expect(guardedRoots()).toEqual([resolve(repoGoldenDir)]);
    expect(existsSync(join(repoGoldenDir, 'e2e/model/model_index.json'))).toBe(true);
    process.env.ATELIER_GOLDEN_DIR = '/elsewhere/golden';
    expect(guardedRoots()).toEqual([resolve(repoGoldenDir), '/elsewhere/golden']);
  });

  test('names a change in any watched folder, and a folder that appears after the snapshot', () => {
    const a = mkdtempSync(join(tmpdir(), 'atelier-guard-a-'));
    const b = `${a}-later`;
    try {
      const check = watchGolden([a, b]);
      mkdirSync(b);
      writeFileSync(join(b, 'weights.fp16.safetensors'), 'x');
      expect(() => check()).toThrow(/modified the golden data in .*-later: weights\.fp16\.safetensors/);
    } finally {
      for (const dir of [a, b]) rmSync(dir, { recursive: true, force: true });
    }
  });
});
