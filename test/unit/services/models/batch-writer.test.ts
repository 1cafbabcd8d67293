import { describe, expect, test } from 'vitest';
import { BatchWriter } from '../../../../src-main/services/models/batch-writer.ts';

function recorder() {
  const writes: [number, number][] = [];
  const heard: [number, number][] = [];
  const write = async (chunks: Uint8Array[], position: number) => {
    writes.push([position, chunks.reduce((n, c) => n + c.byteLength, 0)]);
  };
  return { writes, heard, write, onWritten: (start: number, end: number) => void heard.push([start, end]) };
}

describe('BatchWriter', () => {
  test('holds chunks until a batch is full, then writes it at its place; finish writes the rest', async () => {
    const r = recorder();
    const w = new BatchWriter(r.write, 100, r.onWritten, 10, Number.POSITIVE_INFINITY);
    await w.push(new Uint8Array(4));
    await w.push(new Uint8Array(4));
    expect(r.writes).toEqual([]);
    await w.push(new Uint8Array(4));
    await w.push(new Uint8Array(3));
    await w.finish();
    expect(r.writes).toEqual([
      [100, 12],
      [112, 3],
    ]);
    expect(r.heard).toEqual([
      [100, 112],
      [112, 115],
    ]);
    expect(w.written).toBe(115);
  });

  test('a batch whose first chunk has waited long enough is written before it is full (slow connections)', async () => {
    const r = recorder();
    const w = new BatchWriter(r.write, 0, r.onWritten, 1024 * 1024, 0);
    await w.push(new Uint8Array(5));
    await w.push(new Uint8Array(7));
    await w.settle();
    expect(r.writes).toEqual([
      [0, 5],
      [5, 7],
    ]);
    expect(w.written).toBe(12);
  });
});
