import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { WEIGHT_CACHE_FOLDER } from '../../../../src-main/engine/weights/cache-location.ts';
import { ModelManager } from '../../../../src-main/services/models/model-manager.ts';
import { externalWeightCacheDir, weightCacheDirFor } from '../../../../src-main/services/models/weight-cache-dir.ts';
import { goldenDir } from '../../../helpers/golden.ts';

// Converted weights (fp16, int8, int4) are written inside a model folder only when Atelier manages it; any other
// folder's go to Atelier's cache folder, keyed by the folder, counted on the Models screen and removed with the model.
let work: string;
let modelsDir: string;
let cacheDir: string;
let snapshot: string;
const manager = () => new ModelManager({ modelsDir, cacheDir, hub: () => ({ endpoint: 'http://127.0.0.1:9' }) });

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'atelier-weight-cache-dir-'));
  modelsDir = join(work, 'models');
  cacheDir = join(work, 'user-data', 'cache');
  snapshot = join(work, 'elsewhere', 'OmniGen2');
  await cp(join(goldenDir(), 'e2e', 'model'), snapshot, { recursive: true });
});
afterEach(() => rm(work, { recursive: true, force: true }));

async function fakeCache(dir: string, bytes: number): Promise<void> {
  await mkdir(join(dir, 'transformer-float16'), { recursive: true });
  await writeFile(join(dir, 'transformer-float16', 'diffusion_pytorch_model.safetensors'), Buffer.alloc(bytes));
}

describe('where converted weights go', () => {
  test('an installed model keeps them in its own folder', async () => {
    const model = await manager().import(snapshot, { repo: 'acme/tiny' });
    expect(await weightCacheDirFor(model.folder, { modelsDir, cacheDir })).toBe(
      join(model.folder, WEIGHT_CACHE_FOLDER),
    );
  });

  test('a folder outside the models folder, or one inside that the registry does not list, uses the cache folder', async () => {
    const outside = await weightCacheDirFor(snapshot, { modelsDir, cacheDir });
    expect(outside).toBe(externalWeightCacheDir(snapshot, cacheDir));
    expect(outside.startsWith(join(cacheDir, 'weights', 'OmniGen2-'))).toBe(true);
    const stray = join(modelsDir, 'copied-by-hand');
    await cp(snapshot, stray, { recursive: true });
    expect(await weightCacheDirFor(stray, { modelsDir, cacheDir })).toBe(externalWeightCacheDir(stray, cacheDir));
  });

  test('each folder has its own key: two copies of one model never share a cache', () => {
    const a = externalWeightCacheDir(join(work, 'a', 'OmniGen2'), cacheDir);
    const b = externalWeightCacheDir(join(work, 'b', 'OmniGen2'), cacheDir);
    expect(a).not.toBe(b);
    expect(externalWeightCacheDir(join(work, 'a', 'OmniGen2', '.'), cacheDir)).toBe(a);
  });
});

describe('the Models screen and removal account for them', () => {
  test('cacheBytes counts the caches inside the folder and in the cache folder; remove deletes both', async () => {
    const m = manager();
    const model = await m.import(snapshot, { repo: 'acme/tiny' });
    expect(model.cacheBytes).toBeUndefined();
    await fakeCache(join(model.folder, WEIGHT_CACHE_FOLDER), 1000);
    await fakeCache(externalWeightCacheDir(model.folder, cacheDir), 234); // e.g. written while the folder was read-only
    expect((await m.get('acme/tiny'))?.cacheBytes).toBe(1234);

    const other = externalWeightCacheDir(snapshot, cacheDir);
    await fakeCache(other, 10);
    await m.remove('acme/tiny');
    expect(await readdir(join(cacheDir, 'weights'))).toEqual([other.slice(join(cacheDir, 'weights').length + 1)]);
  });
});
