import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in test/helpers/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The reference data kept in the repository (test/golden/README.md says how it was made). */
export const repoGoldenDir = join(repoRoot, 'test/golden');

/** The golden directory: `ATELIER_GOLDEN_DIR`, else the repository's own `test/golden`. */
export function goldenDir(): string {
  return process.env.ATELIER_GOLDEN_DIR ?? repoGoldenDir;
}

/** Every file in `<golden>/<sub>` whose name matches `pattern`, sorted; throws if the folder is missing. */
export function goldenCases(sub: string, pattern: RegExp): string[] {
  const dir = join(goldenDir(), sub);
  if (!existsSync(dir)) throw new Error(`golden folder missing: ${dir} (set ATELIER_GOLDEN_DIR)`);
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => join(dir, f));
}
