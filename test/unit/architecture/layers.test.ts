import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm))
    found.push({ spec: m[3]!, typeOnly: Boolean(m[2]) });
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ spec: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push({ spec: m[1]!, typeOnly: false });
  return found;
}

const rel = (p: string) => relative(repoRoot, p);

describe('layering rules (ARCHITECTURE.md)', () => {
  const plainNode = [
    ...sources(join(repoRoot, 'src-main/engine')),
    ...sources(join(repoRoot, 'src-main/services')),
    ...sources(join(repoRoot, 'src-main/cli')),
    join(repoRoot, 'src-main/cli.ts'),
  ];

  test('engine/, services/ and the CLI never import electron', () => {
    expect(plainNode.length).toBeGreaterThan(10);
    const offenders = plainNode.filter((f) =>
      imports(f).some((i) => i.spec === 'electron' || i.spec.startsWith('electron/')),
    );
    expect(offenders.map(rel)).toEqual([]);
  });

  test('engine/ does not reach up into services/, ipc/ or the renderer', () => {
    const offenders = sources(join(repoRoot, 'src-main/engine')).flatMap((f) =>
      imports(f)
        .filter((i) => /\/(services|ipc|electron)\//.test(`/${i.spec}`) || i.spec.includes('src-renderer'))
        .map((i) => `${rel(f)} → ${i.spec}`),
    );
    expect(offenders).toEqual([]);
  });

  // The engine's own layers: graph builders and their building blocks sit below the pipeline, which sits below the
  // host. Shared errors and cancellation live at the engine root (engine-error.ts, cancellation.ts).
  const lowerLayers = ['models', 'onnx', 'weights', 'sampling', 'text', 'image'];
  const engineImportsOf = (f: string) => imports(f).map((i) => ({ ...i, target: resolve(dirname(f), i.spec) }));
  const engineDir = join(repoRoot, 'src-main/engine');
  const inside = (target: string, layer: string) => target.startsWith(join(engineDir, layer) + sep);

  test('graph builders and their building blocks never import the pipeline or the host', () => {
    const files = lowerLayers.flatMap((layer) => sources(join(engineDir, layer)));
    expect(files.some((f) => f.includes('/models/qwen-text/'))).toBe(true);
    const offenders = files.flatMap((f) =>
      engineImportsOf(f)
        .filter((i) => inside(i.target, 'pipeline') || inside(i.target, 'host'))
        .map((i) => `${rel(f)} → ${i.spec}`),
    );
    expect(offenders).toEqual([]);
  });

  test('the pipeline uses the host only for types (the host runs the pipeline, not the other way round)', () => {
    const offenders = sources(join(engineDir, 'pipeline')).flatMap((f) =>
      engineImportsOf(f)
        .filter((i) => inside(i.target, 'host') && !i.typeOnly)
        .map((i) => `${rel(f)} → ${i.spec}`),
    );
    expect(offenders).toEqual([]);
  });

  test('the renderer never touches Node and imports only types from the contract', () => {
    const files = sources(join(repoRoot, 'src-renderer'));
    expect(files.length).toBeGreaterThan(3);
    const offenders = files.flatMap((f) =>
      imports(f)
        .filter(
          (i) =>
            i.spec === 'electron' ||
            i.spec.startsWith('node:') ||
            (i.spec.includes('src-main/') && !(i.spec.endsWith('src-main/ipc/contract.ts') && i.typeOnly)),
        )
        .map((i) => `${rel(f)} → ${i.spec}`),
    );
    expect(offenders).toEqual([]);
  });

  test('the contract has no imports, so it compiles for Node and the DOM alike', () => {
    expect(imports(join(repoRoot, 'src-main/ipc/contract.ts'))).toEqual([]);
  });

  test('the checker sees a forbidden import (it is not vacuous)', () => {
    const probe = join(repoRoot, 'src-main/index.ts');
    expect(imports(probe).some((i) => i.spec === 'electron')).toBe(true);
    const host = join(engineDir, 'host/tasks.ts');
    expect(engineImportsOf(host).some((i) => inside(i.target, 'pipeline'))).toBe(true);
  });
});
