import { describe, expect, test } from 'vitest';
import { Graph, GraphError } from '../../../../src-main/engine/onnx/index.ts';

describe('Graph construction', () => {
  test('node names follow the scope path, and scopes close even when the builder throws', () => {
    const g = new Graph({ name: 't', taps: true });
    const x = g.input('x', 'float32', ['S', 4]);
    expect(() =>
      g.scope('layers.0', () =>
        g.scope('attn', () => {
          throw new Error('boom');
        }),
      ),
    ).toThrow('boom');
    expect(g.scopePath).toBe('');
    const y = g.scope('layers.1', () => g.scope('attn', () => g.tanh(x)));
    expect(y.name).toMatch(/^layers\.1\/attn\/Tanh_\d+$/);
    g.scope('layers.1', () => g.tap('out', y));
    expect(g.build().outputs.map((o) => o.name)).toEqual(['layers.1/out']);
  });

  test('constants are deduplicated by dtype, shape and value', () => {
    const g = new Graph({ name: 't' });
    const a = g.scalar(1);
    expect(g.scalar(1)).toBe(a);
    expect(g.scalar(2)).not.toBe(a);
    expect(g.scalar(1, 'float16')).not.toBe(a);
    expect(g.int64s([0, 0, -1])).toBe(g.int64s([0, 0, -1]));
    expect(a.name).toBe('const_float32_[1]');
  });

  test('cheap shape inference follows broadcasting, reshape, split, linear and concat', () => {
    const g = new Graph({ name: 't' });
    const x = g.input('x', 'float32', ['S', 12]);
    const w = g.constant(new Float32Array(8 * 12), 'float32', [8, 12]);
    const y = g.linear(x, { weight: w, bias: null });
    expect(y.shape).toEqual(['S', 8]);
    const [a, b] = g.split(y, 2, -1);
    expect(a.shape).toEqual(['S', 4]);
    expect(g.add(a, g.scalar(1)).shape).toEqual(['S', 4]);
    expect(g.reshape(b, [0, 2, 2]).shape).toEqual(['S', 2, 2]);
    expect(g.concat([a, b], 0).shape).toEqual([null, 4]);
    expect(g.unsqueeze(a, [0]).shape).toEqual([1, 'S', 4]);
    const unknownRows = g.sliceDynamic(a, { starts: g.int64s([1]), ends: g.int64s([2]), axes: [0] });
    expect(g.mul(unknownRows, g.input('row', 'float32', [1, 4])).shape).toEqual([null, 4]); // unknown stays unknown, never 1
    const x3 = g.input('x3', 'float32', [1, 'S', 12]);
    expect(g.linear(x3, { weight: w, bias: null }).shape).toEqual([1, 'S', 8]);
  });

  test('mistakes fail where the node is built, saying what is wrong', () => {
    const g = new Graph({ name: 't' });
    const x = g.input('x', 'float32', ['S', 12]);
    const w = g.constant(new Float32Array(8 * 10), 'float32', [8, 10]);
    expect(() => g.linear(x, { weight: w, bias: null })).toThrow(/input features .* is 12, expected 10/);
    expect(() => g.add(g.input('a', 'float32', [3]), g.input('b', 'float32', [4]))).toThrow(GraphError);
    expect(() => g.split(x, 5, 1)).toThrow(/not divisible by 5/);
    expect(() => g.add(x, g.scalar(1, 'float16'))).toThrow(/dtypes differ/);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already taken/);
    const other = new Graph({ name: 'other' });
    expect(() => other.tanh(x)).toThrow(/does not belong to graph other/);
  });

  test('external initializers must lie inside one model folder and get relative locations', () => {
    const g = new Graph({ name: 't' });
    const t = {
      name: 'w',
      dtype: 'float32' as const,
      dims: [2],
      file: '/m/transformer/a.safetensors',
      offset: 157,
      length: 8,
    };
    expect(() => g.externalInitializer(t, '/m/vae')).toThrow(/not inside the model folder/);
    const v = g.externalInitializer(t, '/m');
    expect(v.shape).toEqual([2]);
    expect(g.externalInitializer(t, '/m')).toBe(v);
    expect(() => g.externalInitializer({ ...t, name: 'w2' }, '/other')).toThrow(/already uses \/m/);
    g.output(g.tanh(v), 'y');
    const model = g.build();
    expect(model.externalDataRoot).toBe('/m');
    expect(Buffer.from(model.bytes).includes(Buffer.from('transformer/a.safetensors'))).toBe(true);
  });

  test('a graph without outputs is refused', () => {
    expect(() => new Graph({ name: 'empty' }).build()).toThrow(/no outputs/);
  });
});
