import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Checkpoint } from '../../../../src-main/engine/onnx/index.ts';
import { float32ToBf16 } from '../../../../src-main/engine/weights/dtype.ts';
import { SafetensorsFile } from '../../../../src-main/engine/weights/safetensors.ts';
import { writeSafetensors } from '../../../../src-main/engine/weights/safetensors-writer.ts';
import { WEIGHT_CACHE_FOLDER } from '../../../../src-main/engine/weights/cache-location.ts';
import { checkpointForCompute, type WeightCacheProgress } from '../../../../src-main/engine/weights/weight-cache.ts';
import { WeightError } from '../../../../src-main/engine/weights/weight-error.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'atelier-wcache-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const values = Float32Array.of(1.5, -2.25, 2 ** -7, 0, 1032, -7); // all exactly representable in bf16
const bf16 = (xs: Float32Array) => float32ToBf16(xs);
const readBack = (ckpt: Checkpoint, key: string) => SafetensorsFile.open(ckpt.info(key).file).readFloat32(key);

/** `<root>/vae/model.safetensors` with a bf16 weight, an fp32 norm and an int64 table. */
function writeComponent(): Checkpoint {
  mkdirSync(join(root, 'vae'));
  writeSafetensors(
    join(root, 'vae', 'model.safetensors'),
    {
      'conv.weight': { dtype: 'BF16', shape: [2, 3], data: bf16(values) },
      'norm.weight': { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) },
      ids: { dtype: 'I64', shape: [2], data: BigInt64Array.of(7n, -1n) },
    },
    { format: 'pt' },
  );
  return Checkpoint.open(join(root, 'vae'), 'model');
}

describe('checkpointForCompute', () => {
  test('bf16 → fp32 once: exact values, other tensors kept, progress to 100 %, reused on the next load', async () => {
    const events: WeightCacheProgress[] = [];
    const first = await checkpointForCompute(writeComponent(), {
      modelRoot: root,
      component: 'vae',
      dtype: 'float32',
      onProgress: (p) => events.push(p),
    });
    const dir = join(root, WEIGHT_CACHE_FOLDER, 'vae-float32');
    expect(first).toMatchObject({ origin: 'converted', dir, narrowing: [] });
    expect(first.checkpoint.info('conv.weight')).toMatchObject({ dtype: 'F32', file: join(dir, 'model.safetensors') });
    expect(Array.from(readBack(first.checkpoint, 'conv.weight'))).toEqual(Array.from(values));
    expect(Array.from(readBack(first.checkpoint, 'norm.weight'))).toEqual([1, 2, 3]);
    expect(Array.from(SafetensorsFile.open(join(dir, 'model.safetensors')).readBigInt64('ids'))).toEqual([7n, -1n]);
    expect(SafetensorsFile.open(join(dir, 'model.safetensors')).metadata).toEqual({ format: 'pt' });

    const total = statSync(join(dir, 'model.safetensors')).size;
    expect(events[0]).toEqual({ doneBytes: 0, totalBytes: total, tensor: null });
    expect(events.at(-1)).toEqual({ doneBytes: total, totalBytes: total, tensor: null });
    expect(events.every((e, i) => i === 0 || e.doneBytes >= events[i - 1]!.doneBytes)).toBe(true);
    expect(events.some((e) => e.tensor === 'conv.weight')).toBe(true);

    const mtime = statSync(join(dir, 'model.safetensors')).mtimeMs;
    const again: WeightCacheProgress[] = [];
    const second = await checkpointForCompute(Checkpoint.open(join(root, 'vae'), 'model'), {
      modelRoot: root,
      component: 'vae',
      dtype: 'float32',
      onProgress: (p) => again.push(p),
    });
    expect(second.origin).toBe('cached');
    expect(again).toEqual([]);
    expect(statSync(join(dir, 'model.safetensors')).mtimeMs).toBe(mtime);
    expect(readdirSync(join(root, WEIGHT_CACHE_FOLDER))).toEqual(['vae-float32']); // no temp folder left
  });

  test('a checkpoint already in the compute precision is used as it is, with no cache', async () => {
    mkdirSync(join(root, 'vae'));
    writeSafetensors(join(root, 'vae', 'model.safetensors'), {
      w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) },
    });
    const source = Checkpoint.open(join(root, 'vae'), 'model');
    expect(await checkpointForCompute(source, { modelRoot: root, component: 'vae', dtype: 'float32' })).toMatchObject({
      checkpoint: source,
      origin: 'source',
      dir: null,
    });
    expect(existsSync(join(root, WEIGHT_CACHE_FOLDER))).toBe(false);
  });

  test('a changed source file invalidates the cache and is converted again', async () => {
    const o = { modelRoot: root, component: 'vae', dtype: 'float32' } as const;
    await checkpointForCompute(writeComponent(), o);
    const path = join(root, 'vae', 'model.safetensors');
    writeSafetensors(path, { 'conv.weight': { dtype: 'BF16', shape: [2, 3], data: bf16(values.map((v) => -v)) } });
    utimesSync(path, new Date(), new Date(Date.now() + 5000)); // a distinct mtime even on coarse clocks
    const after = await checkpointForCompute(Checkpoint.open(join(root, 'vae'), 'model'), o);
    expect(after.origin).toBe('converted');
    expect(Array.from(readBack(after.checkpoint, 'conv.weight'))).toEqual(Array.from(values.map((v) => -v)));
    expect(after.checkpoint.has('norm.weight')).toBe(false);
  });

  test('narrowing to fp16 counts overflow (clamped to ±65504) and underflow per tensor, also on reuse', async () => {
    mkdirSync(join(root, 'vae'));
    writeSafetensors(join(root, 'vae', 'model.safetensors'), {
      big: { dtype: 'F32', shape: [5], data: Float32Array.of(1e5, -1e6, 1e-9, 0, 1.5) },
      fine: { dtype: 'BF16', shape: [2], data: bf16(Float32Array.of(0.5, -3)) },
    });
    const o = { modelRoot: root, component: 'vae', dtype: 'float16' } as const;
    const first = await checkpointForCompute(Checkpoint.open(join(root, 'vae'), 'model'), o);
    expect(first.narrowing).toEqual([{ tensor: 'big', overflow: 2, underflow: 1 }]);
    expect(first.checkpoint.info('big').dtype).toBe('F16');
    expect(Array.from(readBack(first.checkpoint, 'big'))).toEqual([65504, -65504, 0, 0, 1.5]);
    expect(Array.from(readBack(first.checkpoint, 'fine'))).toEqual([0.5, -3]);
    const second = await checkpointForCompute(Checkpoint.open(join(root, 'vae'), 'model'), o);
    expect(second).toMatchObject({ origin: 'cached', narrowing: first.narrowing });
  });

  test('a sharded checkpoint converts every shard and writes its own index', async () => {
    mkdirSync(join(root, 'transformer'));
    const dir = join(root, 'transformer');
    writeSafetensors(join(dir, 'm-1.safetensors'), {
      a: { dtype: 'BF16', shape: [2], data: bf16(Float32Array.of(1, 2)) },
    });
    writeSafetensors(join(dir, 'm-2.safetensors'), {
      b: { dtype: 'BF16', shape: [1], data: bf16(Float32Array.of(-4)) },
    });
    writeFileSync(
      join(dir, 'm.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'm-1.safetensors', b: 'm-2.safetensors' } }),
    );
    const got = await checkpointForCompute(Checkpoint.open(dir, 'm'), {
      modelRoot: root,
      component: 'transformer',
      dtype: 'float32',
    });
    expect(got.checkpoint.path).toBe(
      join(root, WEIGHT_CACHE_FOLDER, 'transformer-float32', 'm.safetensors.index.json'),
    );
    expect(got.checkpoint.keys().sort()).toEqual(['a', 'b']);
    expect(Array.from(readBack(got.checkpoint, 'b'))).toEqual([-4]);
    expect(got.checkpoint.info('a').file).toBe(join(got.dir!, 'm-1.safetensors'));
  });

  test('a truncated shard is a WeightError and leaves no cache behind', async () => {
    writeComponent();
    const dir = join(root, 'vae');
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'conv.weight': 'model.safetensors' } }),
    );
    const viaIndex = Checkpoint.open(dir, 'model'); // shards open lazily: the damage is found by the conversion
    truncateSync(join(dir, 'model.safetensors'), statSync(join(dir, 'model.safetensors')).size - 4);
    const err = await checkpointForCompute(viaIndex, { modelRoot: root, component: 'vae', dtype: 'float32' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WeightError);
    expect(err).toMatchObject({ code: 'truncated', file: join(dir, 'model.safetensors') });
    expect(existsSync(join(root, WEIGHT_CACHE_FOLDER, 'vae-float32'))).toBe(false);
  });

  test('too little free disk space is refused before anything is written', async () => {
    const err = await checkpointForCompute(writeComponent(), {
      modelRoot: root,
      component: 'vae',
      dtype: 'float32',
      freeBytes: () => 100,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightError);
    expect(err).toMatchObject({ code: 'disk-full' });
    expect((err as Error).message).toMatch(/MiB needed in .*\.atelier-cache, 0\.0 MiB free/);
    expect(existsSync(join(root, WEIGHT_CACHE_FOLDER))).toBe(false);
  });

  test('a named cache folder takes the conversion: nothing is written in the model folder, and its volume is the one checked', async () => {
    const external = join(root, 'user-data', 'cache', 'weights', 'model-1');
    mkdirSync(join(root, 'user-data'));
    const asked: string[] = [];
    const before = readdirSync(root).sort();
    const got = await checkpointForCompute(writeComponent(), {
      modelRoot: join(root, 'vae'),
      cacheDir: external,
      component: 'vae',
      dtype: 'float32',
      freeBytes: (dir) => {
        asked.push(dir);
        return 1e12;
      },
    });
    expect(got).toMatchObject({ origin: 'converted', dir: join(external, 'vae-float32') });
    expect(asked).toEqual([join(root, 'user-data')]); // the nearest existing folder on the cache's way
    expect(readdirSync(join(root, 'vae'))).toEqual(['model.safetensors']);
    expect(readdirSync(root).sort()).toEqual([...before, 'vae'].sort());
    const again = await checkpointForCompute(Checkpoint.open(join(root, 'vae'), 'model'), {
      modelRoot: join(root, 'vae'),
      cacheDir: external,
      component: 'vae',
      dtype: 'float32',
    });
    expect(again.origin).toBe('cached');
  });
});
