import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repoRoot } from '../../helpers/golden.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|mts|js|mjs|svelte)$/.test(name) ? [p] : [];
  });
}

/** Module specifiers imported (statically or dynamically) by a source file. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const found: { spec: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) found.push({ spec: m[3]!, typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ spec: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ spec: m[1]!, typeOnly: false });
  return found;
}

const rel = (p: string) => relative(repoRoot, p);

describe('layering rules (ARCHITECTURE.md)', () => {
  const plainNode = [...sources(join(repoRoot, 'src-main/engine')), ...sources(join(repoRoot, 'src-main/services')), ...sources(join(repoRoot, 'src-main/cli')), join(repoRoot, 'src-main/cli.ts')];

  test('engine/, services/ and the CLI never import electron', () => {
    expect(plainNode.length).toBeGreaterThan(10);
    const offenders = plainNode.filter((f) => imports(f).some((i) => i.spec === 'electron' || i.spec.startsWith('electron/')));
    expect(offenders.map(rel)).toEqual([]);
  });

  test('engine/ does not reach up into services/, ipc/ or the renderer', () => {
    const offenders = sources(join(repoRoot, 'src-main/engine')).flatMap((f) =>
      imports(f).filter((i) => /\/(services|ipc|electron)\//.test(`/${i.spec}`) || i.spec.includes('src-renderer')).map((i) => `${rel(f)} → ${i.spec}`));
    expect(offenders).toEqual([]);
  });

  test('the renderer never touches Node and imports only types from the contract', () => {
    const files = sources(join(repoRoot, 'src-renderer'));
    expect(files.length).toBeGreaterThan(3);
    const offenders = files.flatMap((f) => imports(f).filter((i) =>
      i.spec === 'electron' || i.spec.startsWith('node:') ||
      (i.spec.includes('src-main/') && !(i.spec.endsWith('src-main/ipc/contract.ts') && i.typeOnly))).map((i) => `${rel(f)} → ${i.spec}`));
    expect(offenders).toEqual([]);
  });

  test('the contract has no imports, so it compiles for Node and the DOM alike', () => {
    expect(imports(join(repoRoot, 'src-main/ipc/contract.ts'))).toEqual([]);
  });

  test('the checker sees a forbidden import (it is not vacuous)', () => {
    const probe = join(repoRoot, 'src-main/index.ts');
    expect(imports(probe).some((i) => i.spec === 'electron')).toBe(true);
  });
});
