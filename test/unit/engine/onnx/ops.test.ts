import { describe, expect, test } from 'vitest';
import { Graph, OnnxSession, f32, i64, type Value } from '../../../../src-main/engine/onnx/index.ts';
import { expectClose } from '../../../helpers/tensors.ts';

/** Deterministic pseudo-random values in [-1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

async function run(g: Graph, feeds: Parameters<OnnxSession['run']>[0]): Promise<Record<string, Float32Array>> {
  const session = await OnnxSession.create(g.build());
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

describe('op vocabulary against plain-JS references (CPU EP)', () => {
  test('rmsNorm, layerNorm (no affine), silu, reduceMean', async () => {
    const S = 3,
      D = 8;
    const x = rand(S * D, 1),
      w = rand(D, 2);
    const g = new Graph({ name: 'norms' });
    const xi = g.input('x', 'float32', [S, D]);
    const wv = g.constant(w, 'float32', [D]);
    g.output(g.rmsNorm(xi, wv, 1e-5), 'rms');
    g.output(g.layerNorm(xi, g.constant(new Float32Array(D).fill(1), 'float32', [D]), null, 1e-6), 'ln');
    g.output(g.silu(xi), 'silu');
    g.output(g.reduceMean(xi, [-1], true), 'mean');
    const out = await run(g, { x: f32(x, [S, D]) });
    const rms = new Float32Array(S * D),
      ln = new Float32Array(S * D),
      mean = new Float32Array(S);
    for (let s = 0; s < S; s++) {
      const row = x.subarray(s * D, s * D + D);
      const ms = row.reduce((a, v) => a + v * v, 0) / D;
      const mu = row.reduce((a, v) => a + v, 0) / D;
      const va = row.reduce((a, v) => a + (v - mu) ** 2, 0) / D;
      mean[s] = mu;
      row.forEach((v, i) => {
        rms[s * D + i] = (v / Math.sqrt(ms + 1e-5)) * w[i]!;
        ln[s * D + i] = (v - mu) / Math.sqrt(va + 1e-6);
      });
    }
    expectClose(out.rms!, rms, { atol: 1e-5 }, 'rms');
    expectClose(out.ln!, ln, { atol: 1e-5 }, 'ln');
    expectClose(
      out.silu!,
      x.map((v) => v / (1 + Math.exp(-v))),
      { atol: 1e-6 },
      'silu',
    );
    expectClose(out.mean!, mean, { atol: 1e-6 }, 'mean');
  });

  test('interleaved rotary embedding + grouped-query attention (kv head h serves query heads h·g … h·g+g−1)', async () => {
    const S = 5,
      H = 4,
      KV = 2,
      d = 6,
      G = H / KV;
    const q = rand(S * H * d, 3),
      k = rand(S * KV * d, 4),
      v = rand(S * KV * d, 5);
    const cos = rand((S * d) / 2, 6),
      sin = rand((S * d) / 2, 7);
    const g = new Graph({ name: 'attn' });
    const [qi, ki, vi] = (['q', 'k', 'v'] as const).map((n, i) =>
      g.input(n, 'float32', [1, 'S', (i === 0 ? H : KV) * d]),
    ) as [Value, Value, Value];
    const ci = g.input('cos', 'float32', [1, 'S', d / 2]),
      si = g.input('sin', 'float32', [1, 'S', d / 2]);
    const qr = g.rotaryEmbedding(qi, ci, si, { numHeads: H, interleaved: true });
    const kr = g.rotaryEmbedding(ki, ci, si, { numHeads: KV, interleaved: true });
    const expand = (t: Value) => g.repeatKvHeads(t, { kvHeads: KV, groups: G, headDim: d });
    g.output(g.multiHeadAttention(qr, expand(kr), expand(vi), { numHeads: H }), 'o');
    const out = await run(g, {
      q: f32(q, [1, S, H * d]),
      k: f32(k, [1, S, KV * d]),
      v: f32(v, [1, S, KV * d]),
      cos: f32(cos, [1, S, d / 2]),
      sin: f32(sin, [1, S, d / 2]),
    });

    const rope = (x: Float32Array, heads: number) => {
      const y = new Float32Array(x.length);
      for (let s = 0; s < S; s++)
        for (let h = 0; h < heads; h++)
          for (let j = 0; j < d / 2; j++) {
            const at = (s * heads + h) * d + 2 * j,
              c = cos[(s * d) / 2 + j]!,
              n = sin[(s * d) / 2 + j]!;
            y[at] = x[at]! * c - x[at + 1]! * n;
            y[at + 1] = x[at]! * n + x[at + 1]! * c;
          }
      return y;
    };
    const qr2 = rope(q, H),
      kr2 = rope(k, KV);
    const want = new Float32Array(S * H * d);
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / G);
      for (let s = 0; s < S; s++) {
        const logits = Array.from({ length: S }, (_, t) => {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += qr2[(s * H + h) * d + c]! * kr2[(t * KV + kh) * d + c]!;
          return dot / Math.sqrt(d);
        });
        const m = Math.max(...logits),
          e = logits.map((l) => Math.exp(l - m)),
          z = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < d; c++)
          want[(s * H + h) * d + c] = e.reduce((a, p, t) => a + (p / z) * v[(t * KV + kh) * d + c]!, 0);
      }
    }
    expectClose(out.o!, want, { atol: 1e-5 }, 'attention');
  });

  test('linear on a rank-3 input equals x·Wᵀ + b per row', async () => {
    const x = rand(2 * 3 * 4, 10),
      w = rand(5 * 4, 11),
      b = rand(5, 12);
    const g = new Graph({ name: 'linear3' });
    const xi = g.input('x', 'float32', [2, 'S', 4]);
    g.output(g.linear(xi, { weight: g.constant(w, 'float32', [5, 4]), bias: g.constant(b, 'float32', [5]) }), 'y');
    const out = await run(g, { x: f32(x, [2, 3, 4]) });
    const want = Float32Array.from({ length: 6 * 5 }, (_, i) => {
      const row = Math.floor(i / 5),
        o = i % 5;
      return b[o]! + [0, 1, 2, 3].reduce((a, k) => a + x[row * 4 + k]! * w[o * 4 + k]!, 0);
    });
    expectClose(out.y!, want, { atol: 1e-6 }, 'linear3');
  });

  test('gather, slice, splitSizes, transpose, concat with an empty input, conv', async () => {
    const g = new Graph({ name: 'shapes' });
    const table = rand(5 * 4, 8);
    const x = g.input('x', 'float32', ['N', 4]);
    const idx = g.input('idx', 'int64', [1]);
    const empty = g.input('empty', 'float32', ['Z', 4]);
    g.output(g.gather(g.constant(table, 'float32', [5, 4]), idx, 0), 'row');
    g.output(g.slice(x, { starts: [-2], ends: [1e9], axes: [0] }), 'tail');
    const [, right] = g.splitSizes(x, [1, 3], 1) as [Value, Value];
    g.output(right, 'right');
    g.output(g.transpose(x, [1, 0]), 'xt');
    g.output(g.concat([empty, x], 0), 'cat');
    const img = g.input('img', 'float32', [1, 1, 3, 3]);
    g.output(
      g.conv(
        img,
        g.constant(Float32Array.of(1, 0, 0, -1), 'float32', [1, 1, 2, 2]),
        g.constant(Float32Array.of(0.5), 'float32', [1]),
        { pads: [0, 0, 0, 0] },
      ),
      'conv',
    );
    const xs = rand(3 * 4, 9);
    const out = await run(g, {
      x: f32(xs, [3, 4]),
      idx: i64([3]),
      empty: f32(new Float32Array(0), [0, 4]),
      img: f32(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), [1, 1, 3, 3]),
    });
    expect(Array.from(out.row!)).toEqual(Array.from(table.subarray(12, 16)));
    expect(Array.from(out.tail!)).toEqual(Array.from(xs.subarray(4)));
    expect(Array.from(out.right!)).toEqual([0, 1, 2].flatMap((r) => Array.from(xs.subarray(r * 4 + 1, r * 4 + 4))));
    expect(Array.from(out.xt!)).toEqual([0, 1, 2, 3].flatMap((c) => [0, 1, 2].map((r) => xs[r * 4 + c]!)));
    expect(Array.from(out.cat!)).toEqual(Array.from(xs));
    expect(Array.from(out.conv!)).toEqual([-3.5, -3.5, -3.5, -3.5]);
  });
});
