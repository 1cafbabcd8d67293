import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { concatRopeTables, omniRopeIds, omniRopeTable } from '../../src-main/engine/sampling/omni-rope.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';
import { loadDitCase } from './dit-case.ts';

const config = JSON.parse(readFileSync(join(goldenDir(), 'transformer/config.json'), 'utf8')) as {
  axes_dim_rope: number[];
};
const seqLengths = JSON.parse(readFileSync(join(goldenDir(), 'transformer/cases.json'), 'utf8')) as Record<
  string,
  { encoder_seq_lengths: number[]; seq_lengths: number[] }
>;
const items = goldenCases('transformer', /^case_.*\.safetensors$/).flatMap((path) => {
  const c = loadDitCase(path);
  return c.items.map((item, b) => ({ label: `${c.name} item ${b}`, key: c.name.replace(/^case_/, ''), b, item }));
});

// The reference builds complex128 tables and applies them in fp32; float64 angles rounded to fp32
// agree to within one fp32 ulp (measured: bit-identical on every case).
const TOL = { atol: 1e-6 };

describe('Omni-RoPE tables match the official rotations (golden rope_* intermediates)', () => {
  test('the golden folder has transformer cases', () => expect(items.length).toBeGreaterThan(0));

  test.each(items)('$label', ({ item, key, b }) => {
    const grid = ([, h, w]: readonly number[]) => ({ rows: h! / 2, cols: w! / 2 });
    const ids = omniRopeIds(item.textLength, item.refShapes.map(grid), grid(item.latentShape));
    const table = (p: Int32Array) => omniRopeTable(p, config.axes_dim_rope);
    const text = table(ids.text),
      refs = ids.refs.map(table),
      image = table(ids.image);
    const pairs = text.pairs;
    const runs = {
      caption: text,
      ref: concatRopeTables(refs, pairs),
      image,
      full: concatRopeTables([text, ...refs, image], pairs),
    };
    expect(item.textLength).toBe(seqLengths[key]!.encoder_seq_lengths[b]);
    expect(item.rope.full.rows).toBe(seqLengths[key]!.seq_lengths[b]);
    for (const [run, got] of Object.entries(runs) as [keyof typeof runs, (typeof runs)['full']][]) {
      expect(got.tokens, `${run} rows`).toBe(item.rope[run].rows);
      if (got.tokens === 0) continue;
      expectClose(got.cos, item.rope[run].cos, TOL, `${run} cos`);
      expectClose(got.sin, item.rope[run].sin, TOL, `${run} sin`);
    }
  });
});
