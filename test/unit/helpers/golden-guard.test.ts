import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import setup from '../../helpers/golden-guard.ts';

const saved = process.env.ATELIER_GOLDEN_DIR;
afterEach(() => { if (saved === undefined) delete process.env.ATELIER_GOLDEN_DIR; else process.env.ATELIER_GOLDEN_DIR = saved; });

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
});
