import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DitConfigError, parseDitConfig } from '../../../../src-main/engine/models/dit.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { REAL_DIT_CONFIG } from './real-dit-checkpoint.ts';

describe('parseDitConfig', () => {
  test('the real config gives the derived constants of §1.2', () => {
    expect(parseDitConfig(REAL_DIT_CONFIG)).toMatchObject({
      headDim: 120,
      kvGroups: 3,
      ffnDim: 10240,
      tembDim: 1024,
      patchDim: 64,
      outPatchDim: 64,
      ropePairs: 60,
      outChannels: 16,
    });
  });

  test('the tiny golden config parses (FFN 4·48 = 192 is already a multiple of 16)', () => {
    const cfg = parseDitConfig(JSON.parse(readFileSync(join(goldenDir(), 'transformer/config.json'), 'utf8')));
    expect(cfg).toMatchObject({
      hiddenSize: 48,
      headDim: 12,
      kvGroups: 2,
      ffnDim: 192,
      tembDim: 48,
      numRefinerLayers: 1,
    });
  });

  test('ffn_dim_multiplier scales 4·D before rounding up to multiple_of', () => {
    expect(parseDitConfig({ ...REAL_DIT_CONFIG, ffn_dim_multiplier: 1.3 }).ffnDim).toBe(13312); // ⌈13104/256⌉·256
  });

  test.each([
    ['hidden_size', { hidden_size: undefined }, /"hidden_size" is missing/],
    ['num_kv_heads', { num_kv_heads: 4 }, /"num_kv_heads" \(4\) must divide num_attention_heads \(21\)/],
    ['axes_dim_rope', { axes_dim_rope: [40, 40, 38] }, /"axes_dim_rope" must sum to the head size 120/],
    ['axes_dim_rope', { axes_dim_rope: [40, 40] }, /three positive integers/],
    ['patch_size', { patch_size: 1.5 }, /"patch_size" must be an integer/],
    ['norm_eps', { norm_eps: '1e-5' }, /"norm_eps" must be a number/],
  ])('a wrong %s is refused, naming the key', (key, change, message) => {
    const err = (() => {
      try {
        parseDitConfig({ ...REAL_DIT_CONFIG, ...change }, 'x/config.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DitConfigError);
    expect(err).toMatchObject({ key, source: 'x/config.json' });
    expect((err as Error).message).toMatch(message);
  });

  test('not an object', () => expect(() => parseDitConfig([])).toThrow(DitConfigError));
});
