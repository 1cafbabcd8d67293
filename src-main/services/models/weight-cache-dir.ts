import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { WEIGHT_CACHE_FOLDER } from '../../engine/weights/cache-location.ts';
import { ModelRegistry } from './registry.ts';

/** Where converted weights may go: the models folder Atelier manages, and its own cache folder for the rest. */
export interface WeightCachePlaces {
  modelsDir: string;
  /** Atelier's cache folder (settings `cacheDir`, default `<user data>/cache`). */
  cacheDir: string;
}

/**
 * The cache folder for a model outside the models folder: one per model folder under `<cacheDir>/weights/`, named
 * after the folder and the hash of its absolute path. Inside it, each cache's manifest records the size and time of
 * the source files it came from, so a changed file is converted again in place (weights/weight-cache.ts).
 */
export function externalWeightCacheDir(modelDir: string, cacheDir: string): string {
  const abs = resolve(modelDir);
  const key = createHash('sha256').update(abs).digest('hex').slice(0, 16);
  return join(resolve(cacheDir), 'weights', `${basename(abs).replace(/[^A-Za-z0-9._-]/g, '_') || 'model'}-${key}`);
}

/**
 * Where the engine writes the converted weights of `modelDir` (fp16, int8, int4): inside the folder only when
 * Atelier manages it (a model its models folder lists) and it can be written; otherwise Atelier's cache folder,
 * so nothing is ever written beside files that belong to someone else.
 */
export async function weightCacheDirFor(modelDir: string, places: WeightCachePlaces): Promise<string> {
  return (await isManagedAndWritable(modelDir, places.modelsDir))
    ? join(resolve(modelDir), WEIGHT_CACHE_FOLDER)
    : externalWeightCacheDir(modelDir, places.cacheDir);
}

/** Bytes of every converted-weight cache of `modelDir`: inside it, and in the cache folder when one is given. */
export async function weightCacheBytes(modelDir: string, cacheDir?: string): Promise<number> {
  const inside = [join(modelDir, WEIGHT_CACHE_FOLDER), join(modelDir, 'mllm', WEIGHT_CACHE_FOLDER)];
  const outside = cacheDir === undefined ? [] : [externalWeightCacheDir(modelDir, cacheDir)];
  const sizes = await Promise.all([...inside, ...outside].map(folderBytes));
  return sizes.reduce((a, b) => a + b, 0);
}

/** Deletes the caches of `modelDir` kept in the cache folder (the ones inside it go with the folder). */
export async function removeExternalWeightCache(modelDir: string, cacheDir: string): Promise<void> {
  await rm(externalWeightCacheDir(modelDir, cacheDir), { recursive: true, force: true });
}

async function isManagedAndWritable(modelDir: string, modelsDir: string): Promise<boolean> {
  const abs = resolve(modelDir);
  if (dirname(abs) !== resolve(modelsDir)) return false;
  const listed = await new ModelRegistry(modelsDir).list().then(
    (entries) => entries.some((e) => e.folder === basename(abs)),
    () => false,
  );
  if (!listed) return false;
  return access(abs, constants.W_OK).then(
    () => true,
    () => false,
  );
}

async function folderBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries
      .filter((e) => e.isFile())
      .map((e) =>
        stat(join(e.parentPath, e.name)).then(
          (s) => s.size,
          () => 0,
        ),
      ),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
