import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  Checkpoint,
  Graph,
  OnnxSession,
  OnnxSessionError,
  Weights,
  f32,
} from '../../../../src-main/engine/onnx/index.ts';
import { float32ToBf16, float32ToFloat16 } from '../../../../src-main/engine/weights/dtype.ts';
import { writeSafetensors } from '../../../../src-main/engine/weights/safetensors-writer.ts';
import { WeightError } from '../../../../src-main/engine/weights/weight-error.ts';

let root: string;
const W = Float32Array.of(1, 2, 3, 4, 5, 6); // [3, 2]
const B = Float32Array.of(0.5, -1, 2.25); // exact in bf16 and fp16
const X = Float32Array.of(1, 1, 2, -0.5); // [2, 2]
const Y = Float32Array.of(3.5, 6, 13.25, 1.5, 3, 9.25);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'atelier-onnx-'));
  // A 3-byte tensor first puts every later tensor at an odd absolute offset.
  writeSafetensors(join(root, 'single.safetensors'), {
    pad: { dtype: 'U8', shape: [3], data: new Uint8Array(3) },
    'lin.weight': { dtype: 'F32', shape: [3, 2], data: W },
    'lin.bias': { dtype: 'BF16', shape: [3], data: float32ToBf16(B) },
  });
  writeSafetensors(join(root, 'model-00001-of-00002.safetensors'), {
    pad: { dtype: 'U8', shape: [1], data: new Uint8Array(1) },
    'lin.weight': { dtype: 'BF16', shape: [3, 2], data: float32ToBf16(W) },
  });
  writeSafetensors(join(root, 'model-00002-of-00002.safetensors'), {
    pad: { dtype: 'U8', shape: [5], data: new Uint8Array(5) },
    'lin.bias': { dtype: 'F16', shape: [3], data: float32ToFloat16(B) },
  });
  writeFileSync(
    join(root, 'model.safetensors.index.json'),
    JSON.stringify({
      metadata: {},
      weight_map: {
        'lin.weight': 'model-00001-of-00002.safetensors',
        'lin.bias': 'model-00002-of-00002.safetensors',
        'lin.gone': 'model-00002-of-00002.safetensors',
      },
    }),
  );
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function linearGraph(ckpt: Checkpoint): Graph {
  const g = new Graph({ name: 'linear' });
  const w = Weights.of(g, ckpt, { root });
  const x = g.input('x', 'float32', ['N', 2]);
  g.output(g.linear(x, w.linear('lin', 3, 2, { bias: true })), 'y');
  return g;
}

describe('weights as external data inside safetensors files', () => {
  test('f32 weight + bf16 bias at odd offsets give x·Wᵀ + b', async () => {
    const ckpt = Checkpoint.open(join(root, 'single.safetensors'));
    expect(ckpt.info('lin.weight').dataOffset % 2).toBe(1);
    const session = await OnnxSession.create(linearGraph(ckpt).build());
    const { y } = await session.run({ x: f32(X, [2, 2]) });
    expect(y!.dims).toEqual([2, 3]);
    expect(Array.from(y!.data as Float32Array)).toEqual(Array.from(Y));
  });

  test('a sharded checkpoint (index.json) with bf16 and fp16 shards gives the same numbers', async () => {
    const ckpt = Checkpoint.open(root, 'model');
    const session = await OnnxSession.create(linearGraph(ckpt).build());
    const { y } = await session.run({ x: f32(X, [2, 2]) });
    expect(Array.from(y!.data as Float32Array)).toEqual(Array.from(Y));
  });

  test('missing keys and wrong shapes name the tensor and the file', () => {
    const single = Checkpoint.open(join(root, 'single.safetensors'));
    const g = new Graph({ name: 'bad' });
    const w = Weights.of(g, single, { root });
    expect(() => w.tensor('lin.nope', [3])).toThrow(WeightError);
    expect(() => w.tensor('lin.nope', [3])).toThrow(/"lin\.nope" is missing from .*single\.safetensors/);
    expect(() => w.scope('lin').tensor('weight', [2, 3])).toThrow(
      /"lin\.weight" in .*single\.safetensors has shape \[3, 2\] but the model config expects \[2, 3\]/,
    );
    const sharded = Checkpoint.open(root, 'model');
    const err = (() => {
      try {
        Weights.of(g, sharded, { root }).tensor('lin.gone', [1]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: 'missing-tensor', tensor: 'lin.gone' });
    expect((err as WeightError).file).toMatch(/model-00002-of-00002\.safetensors$/);
    expect(() => Weights.of(g, sharded, { root }).tensor('lin.absent', [1])).toThrow(
      /"lin\.absent" is missing from .*model\.safetensors\.index\.json/,
    );
  });

  test('a folder needs the weights base name; a missing file is a not-found WeightError', () => {
    expect(() => Checkpoint.open(root)).toThrow(WeightError);
    expect(() => Checkpoint.open(root, 'nothing')).toThrow(expect.objectContaining({ code: 'not-found' }));
  });
});

describe('OnnxSession', () => {
  test('creation failure is a typed error naming the graph', async () => {
    const g = new Graph({ name: 'broken' });
    const v = g.externalInitializer(
      { name: 'w', dtype: 'float32', dims: [1000], file: join(root, 'absent.safetensors'), offset: 0, length: 4000 },
      root,
    );
    g.output(g.tanh(v), 'y');
    const err = await OnnxSession.create(g.build()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxSessionError);
    expect(err).toMatchObject({ code: 'create-failed', model: 'broken' });
  });

  test('wrong feed names are reported before onnxruntime runs', async () => {
    const session = await OnnxSession.create(linearGraph(Checkpoint.open(join(root, 'single.safetensors'))).build());
    await expect(session.run({ z: f32(X, [2, 2]) })).rejects.toMatchObject({
      code: 'bad-feeds',
      message: expect.stringMatching(/missing inputs \[x\], unknown inputs \[z\]/),
    });
  });
});
