import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  WEIGHT_CACHE_FOLDER,
  cacheRootOf,
  externalDataRoot,
} from '../../../../src-main/engine/weights/cache-location.ts';

describe('weight cache location', () => {
  test('by default the cache sits in the model folder; a named folder replaces it', () => {
    expect(cacheRootOf('/m/OmniGen2', undefined)).toBe(join('/m/OmniGen2', WEIGHT_CACHE_FOLDER));
    expect(cacheRootOf('/m/OmniGen2', '/c/weights/x')).toBe('/c/weights/x');
  });

  test('graphs read external data from the model root when the cache is inside it, else from the nearest common folder', () => {
    expect(externalDataRoot('/m/OmniGen2', '/m/OmniGen2/.atelier-cache/transformer-float16')).toBe('/m/OmniGen2');
    expect(externalDataRoot('/home/u/Downloads/OmniGen2/mllm', '/home/u/.config/Atelier/cache/weights/m-1')).toBe(
      '/home/u',
    );
    expect(externalDataRoot('/srv/models/x', '/var/cache/atelier')).toBe('/');
    // a sibling whose name merely starts like the model folder is not inside it
    expect(externalDataRoot('/m/model', '/m/model-cache/a')).toBe('/m');
  });
});
