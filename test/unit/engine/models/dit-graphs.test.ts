import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DIT_GRAPHS, parseDitConfig, type DitGraphName } from '../../../../src-main/engine/models/dit.ts';
import { Checkpoint } from '../../../../src-main/engine/onnx/index.ts';
import { goldenDir } from '../../../helpers/golden.ts';
import { REAL_DIT_CONFIG, realDitTensors, writeSparseRealDit } from './real-dit-checkpoint.ts';

const names = Object.keys(DIT_GRAPHS) as DitGraphName[];

describe('DiT graphs for the released 4B configuration (built, not run)', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'atelier-real-dit-'));
    writeSparseRealDit(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('together the graphs read all 582 tensors (3,967,161,400 parameters) with the shapes of §1.3', () => {
    const cfg = parseDitConfig(REAL_DIT_CONFIG);
    const ckpt = Checkpoint.open(join(root, 'transformer'), 'diffusion_pytorch_model');
    const models = names.map((n) => DIT_GRAPHS[n](cfg, ckpt, { root }));
    const used = new Set(models.flatMap((m) => m.externalInitializers));
    const all = realDitTensors();
    expect(all.size).toBe(582);
    expect([...all.values()].reduce((a, s) => a + s.reduce((p, d) => p * d, 1), 0)).toBe(3_967_161_400);
    expect([...all.keys()].filter((k) => !used.has(k))).toEqual([]);
    expect(used.size).toBe(582);
    // The accelerated path (§6) alone, without dit_main, reads the whole checkpoint too.
    const split = new Set(models.filter((m) => m.name !== 'dit_main').flatMap((m) => m.externalInitializers));
    expect(split.size).toBe(582);
    for (const m of models) {
      expect(m.externalDataRoot).toBe(root);
      expect(m.bytes.length, `${m.name} stays small: weights are external`).toBeLessThan(4_000_000);
    }
  });

  test('token axes are dynamic so one session serves every text length and image size', () => {
    const cfg = parseDitConfig(REAL_DIT_CONFIG);
    const main = DIT_GRAPHS.dit_main(cfg, Checkpoint.open(join(root, 'transformer'), 'diffusion_pytorch_model'), {
      root,
    });
    expect(main.inputs.map((i) => [i.name, i.shape])).toEqual([
      ['text_tokens', ['text_tokens', 2520]],
      ['ref_tokens', ['ref_tokens', 2520]],
      ['noise_patches', ['image_tokens', 64]],
      ['temb', [1, 1024]],
      ['rope_cos', ['seq', 60]],
      ['rope_sin', ['seq', 60]],
    ]);
    expect(main.outputs.map((o) => [o.name, o.shape])).toEqual([['output', [null, 64]]]);
  });
});

test('the tiny golden checkpoint is used completely too (89 tensors)', () => {
  const dir = join(goldenDir(), 'transformer');
  const ckpt = Checkpoint.open(dir, 'diffusion_pytorch_model');
  const cfg = parseDitConfig({
    ...REAL_DIT_CONFIG,
    hidden_size: 48,
    num_layers: 2,
    num_refiner_layers: 1,
    num_attention_heads: 4,
    num_kv_heads: 2,
    multiple_of: 16,
    axes_dim_rope: [4, 4, 4],
    text_feat_dim: 40,
  });
  const used = new Set(names.flatMap((n) => DIT_GRAPHS[n](cfg, ckpt, { root: dir }).externalInitializers));
  expect(used.size).toBe(ckpt.keys().length);
  expect(used.size).toBe(89);
});
