import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { goldenDir, repoGoldenDir } from './golden.ts';

/** Every file under the golden folder with its size and modification time (none when the folder is absent). */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(root)) return files;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const s = statSync(path);
        files.set(relative(root, path), `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(root);
  return files;
}

/** The folders the guard watches: the repository's own copy and, when `ATELIER_GOLDEN_DIR` points elsewhere, that one. */
export function guardedRoots(): string[] {
  return [...new Set([resolve(repoGoldenDir), resolve(goldenDir())])];
}

/** Snapshots `roots` now; the returned check throws if any file under them appeared, vanished or changed since. */
export function watchGolden(roots: string[]): () => void {
  const before = roots.map(snapshot);
  return () => {
    for (const [i, root] of roots.entries()) {
      const was = before[i]!;
      const now = snapshot(root);
      const changed = [...new Set([...was.keys(), ...now.keys()])].filter((k) => was.get(k) !== now.get(k));
      if (changed.length > 0)
        throw new Error(`tests modified the golden data in ${root}: ${changed.slice(0, 10).join(', ')}`);
    }
  };
}

/**
 * Vitest global setup: the golden data is the judge, so no test may write into it (tests run as root in CI,
 * where missing write bits would not stop a write).
 */
export default function setup(): () => void {
  return watchGolden(guardedRoots());
}
