import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Checkpoint } from '../../../../src-main/engine/onnx/index.ts';
import { float32ToBf16 } from '../../../../src-main/engine/weights/dtype.ts';
import { quantizedCheckpointFor } from '../../../../src-main/engine/weights/quant-cache.ts';
import { dequantizeRows } from '../../../../src-main/engine/weights/quantize.ts';
import { writeSafetensors } from '../../../../src-main/engine/weights/safetensors-writer.ts';
import { WeightError } from '../../../../src-main/engine/weights/weight-error.ts';

let root: string;
const rows = 40,
  cols = 72;
const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.3) * 0.02);

function writeSource(): Checkpoint {
  writeSafetensors(join(root, 'model.safetensors'), {
    'layers.0.proj.weight': { dtype: 'BF16', shape: [rows, cols], data: float32ToBf16(w) },
    'layers.0.norm.weight': { dtype: 'F32', shape: [cols], data: new Float32Array(cols).fill(1) },
    'embed.weight': { dtype: 'F32', shape: [10, cols], data: new Float32Array(10 * cols) },
  });
  return Checkpoint.open(join(root, 'model.safetensors'));
}

const options = {
  component: 'test',
  layout: { bits: 4 as const, blockSize: 32 },
  select: (k: string) => k.startsWith('layers.'),
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'atelier-quant-cache-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('quantised-weight cache', () => {
  test('quantises the selected 2-D weights once into .atelier-cache, with a manifest, and reuses it', async () => {
    const source = writeSource();
    const progress: number[] = [];
    const first = await quantizedCheckpointFor(source, {
      ...options,
      modelRoot: root,
      onProgress: (p) => progress.push(p.doneBytes / p.totalBytes),
    });
    expect(first.origin).toBe('quantized');
    expect(first.dir).toBe(join(root, '.atelier-cache', 'test-int4-b32'));
    expect(first.checkpoint.keys().sort()).toEqual(['layers.0.proj.weight.packed', 'layers.0.proj.weight.scales']);
    expect(first.checkpoint.info('layers.0.proj.weight.packed').shape).toEqual([rows, 3, 16]);
    expect(progress.at(-1)).toBe(1);
    const [stats] = first.tensors;
    expect(stats).toMatchObject({
      key: 'layers.0.proj.weight',
      rows,
      cols,
      sourceBytes: rows * cols * 2,
      quantizedBytes: rows * (3 * 16 + 3 * 4),
    });
    expect(stats!.relRmsError).toBeGreaterThan(0.02);
    expect(stats!.relRmsError).toBeLessThan(0.12);
    const manifest = JSON.parse(readFileSync(join(first.dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ bits: 4, blockSize: 32, tensors: [{ key: 'layers.0.proj.weight' }] });

    // the stored codes dequantise to the bf16 source within a step
    const f = first.checkpoint;
    const back = dequantizeRows(
      {
        packed: new Uint8Array(readBytes(f, 'layers.0.proj.weight.packed')),
        scales: new Float32Array(readBytes(f, 'layers.0.proj.weight.scales')),
      },
      rows,
      cols,
      options.layout,
    );
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i]! - w[i]!)).toBeLessThan(0.02 / 7 + 1e-3);

    const again = await quantizedCheckpointFor(source, { ...options, modelRoot: root });
    expect(again.origin).toBe('cached');
    expect(again.tensors).toEqual(first.tensors);
  });

  test('a changed source, layout or selection is quantised again', async () => {
    const source = writeSource();
    await quantizedCheckpointFor(source, { ...options, modelRoot: root });
    utimesSync(join(root, 'model.safetensors'), new Date(), new Date(Date.now() + 5000));
    expect((await quantizedCheckpointFor(source, { ...options, modelRoot: root })).origin).toBe('quantized');
    expect(
      (await quantizedCheckpointFor(source, { ...options, modelRoot: root, select: () => true })).tensors.map(
        (t) => t.key,
      ),
    ).toEqual(['embed.weight', 'layers.0.proj.weight']);
    expect(
      (await quantizedCheckpointFor(source, { ...options, modelRoot: root, layout: { bits: 8, blockSize: 64 } })).dir,
    ).toMatch(/test-int8-b64$/);
  });

  test('refuses to start without the disk space for the result', async () => {
    const source = writeSource();
    await expect(
      quantizedCheckpointFor(source, { ...options, modelRoot: root, freeBytes: () => 100 }),
    ).rejects.toMatchObject({ code: 'disk-full' });
    await expect(
      quantizedCheckpointFor(source, { ...options, modelRoot: root, freeBytes: () => 100 }),
    ).rejects.toBeInstanceOf(WeightError);
  });
});

function readBytes(ckpt: Checkpoint, key: string): ArrayBuffer {
  const info = ckpt.info(key);
  const all = readFileSync(info.file);
  return all.buffer.slice(all.byteOffset + info.dataOffset, all.byteOffset + info.dataOffset + info.byteLength);
}
