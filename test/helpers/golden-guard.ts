import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { goldenDir } from './golden.ts';

/** Every file under the golden folder with its size and modification time. */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
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

/**
 * Vitest global setup: the golden data is the judge, so no test may write into it (tests run as root in CI,
 * where its missing write bits do not stop a write). Fails the run if any file appeared, vanished or changed.
 */
export default function setup(): () => void {
  const root = goldenDir();
  const before = snapshot(root);
  return () => {
    const after = snapshot(root);
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
    if (changed.length > 0) throw new Error(`tests modified the golden data in ${root}: ${changed.slice(0, 10).join(', ')}`);
  };
}
