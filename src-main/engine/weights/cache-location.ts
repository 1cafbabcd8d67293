import { isAbsolute, join, parse, relative, resolve, sep } from 'node:path';
import { WeightError } from './weight-error.ts';

/** The cache folder inside a model folder, where Atelier manages that folder. */
export const WEIGHT_CACHE_FOLDER = '.atelier-cache';

/**
 * Where a model's converted-weight caches go and what folder its sessions read external data from.
 *
 * By default the caches sit inside the model folder (`<modelRoot>/.atelier-cache/`). The app and the CLI pass
 * another folder for a model Atelier does not manage (services/models/weight-cache-dir.ts), so that nothing is ever
 * written beside someone else's files. onnxruntime only reads external data below one folder (tech-notes.md §1.3): a
 * graph that mixes source tensors and cached ones then reads both from their nearest common ancestor.
 */
export function cacheRootOf(modelRoot: string, cacheDir: string | undefined): string {
  return resolve(cacheDir ?? join(modelRoot, WEIGHT_CACHE_FOLDER));
}

/** The folder holding both `modelRoot` and `cacheRoot`, which graphs use as their external-data root. */
export function externalDataRoot(modelRoot: string, cacheRoot: string): string {
  const model = resolve(modelRoot);
  const cache = resolve(cacheRoot);
  if (inside(cache, model)) return model;
  let common = model;
  while (!inside(cache, common)) {
    const up = resolve(common, '..');
    if (up === common) break;
    common = up;
  }
  if (!inside(cache, common) || parse(common).root !== parse(cache).root) {
    throw new WeightError(
      'cache-location',
      model,
      `the weight cache ${cache} and the model ${model} share no folder (another drive?); choose a cache folder on the same drive in the settings`,
    );
  }
  return common;
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}
