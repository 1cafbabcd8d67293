import { describe, expect, test } from 'vitest';
import { BatchWriter } from '../../../../src-main/services/models/batch-writer.ts';

/** A disk whose writes complete only when the test says so, recording what reached it. */
function slowDisk() {
  const file = new Uint8Array(256);
  const writes: [number, number][] = [];
  const heard: [number, number][] = [];
  const pending: { finish(): void; fail(e: Error): void }[] = [];
  const write = (chunks: Uint8Array[], position: number) =>
    new Promise<void>((resolve, reject) => {
      pending.push({
        finish: () => {
          let at = position;
          for (const c of chunks) file.set(c, (at += c.byteLength) - c.byteLength);
          writes.push([position, at - position]);
          resolve();
        },
        fail: reject,
      });
    });
  const onWritten = (start: number, end: number) => void heard.push([start, end]);
  return { file, writes, heard, pending, write, onWritten };
}

/** An instant disk. */
function fastDisk() {
  const d = slowDisk();
  const write = async (chunks: Uint8Array[], position: number) => {
    const done = d.write(chunks, position);
    d.pending.shift()!.finish();
    await done;
  };
  return { ...d, write };
}

/** Puts `bytes` into the writer as a socket would: into its space, waiting for room when it has none. */
async function feed(w: BatchWriter, bytes: number[]): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const space = w.space();
    if (!space) {
      await w.room();
      continue;
    }
    const n = Math.min(space.byteLength, bytes.length - at);
    space.set(bytes.slice(at, at + n));
    w.commit(n);
    at += n;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('BatchWriter', () => {
  test('writes full batches at their place in order, and finish writes the partial last one', async () => {
    const d = fastDisk();
    const w = new BatchWriter(d.write, 10, 40, d.onWritten, 8, Number.POSITIVE_INFINITY);
    await feed(w, range(10, 30));
    await w.settle();
    expect(d.writes).toEqual([
      [10, 8],
      [18, 8],
    ]);
    await w.finish();
    expect(d.writes.at(-1)).toEqual([26, 4]);
    expect(d.heard).toEqual([
      [10, 18],
      [18, 26],
      [26, 30],
    ]);
    expect(w.written).toBe(30);
    expect([...d.file.subarray(10, 30)]).toEqual(range(10, 30));
  });

  test('a batch whose first bytes have waited maxDelayMs is written before it is full (slow connections)', async () => {
    const d = fastDisk();
    const w = new BatchWriter(d.write, 0, 64, d.onWritten, 1024, 0);
    await feed(w, [1, 2, 3]);
    await w.settle();
    expect(d.writes).toEqual([[0, 3]]);
    expect(w.written).toBe(3);
  });

  test('holds at most two buffers: no space while both are busy, room once a write completes', async () => {
    const d = slowDisk();
    const w = new BatchWriter(d.write, 0, 64, d.onWritten, 4, Number.POSITIVE_INFINITY);
    await feed(w, range(0, 8));
    expect(d.pending).toHaveLength(1);
    expect(w.space()).toBeNull();
    let roomy = false;
    const room = w.room().then(() => (roomy = true));
    await new Promise((r) => setImmediate(r));
    expect(roomy).toBe(false);
    d.pending.shift()!.finish();
    await room;
    expect(w.space()?.byteLength).toBe(4);
    // The second batch was queued behind the first, never written beside it.
    await new Promise((r) => setImmediate(r));
    expect(d.pending).toHaveLength(1);
    d.pending.shift()!.finish();
    await w.finish();
    expect(d.writes).toEqual([
      [0, 4],
      [4, 4],
    ]);
    expect([...d.file.subarray(0, 8)]).toEqual(range(0, 8));
  });

  test('a write failure rejects room() and finish(), and the failed batch is not reported as written', async () => {
    const d = slowDisk();
    const w = new BatchWriter(d.write, 0, 64, d.onWritten, 4, Number.POSITIVE_INFINITY);
    await feed(w, range(0, 8));
    const room = w.room();
    d.pending.shift()!.fail(new Error('disk full'));
    await expect(room).rejects.toThrow('disk full');
    await expect(w.room()).rejects.toThrow('disk full');
    await expect(w.finish()).rejects.toThrow('disk full');
    expect(d.heard).toEqual([]);
    expect(w.written).toBe(0);
  });

  test('wanted counts down to the end of the region, and the last byte of the region triggers its write', async () => {
    const d = fastDisk();
    const w = new BatchWriter(d.write, 100, 110, d.onWritten, 64, Number.POSITIVE_INFINITY);
    expect(w.wanted).toBe(10);
    w.space()!.set([1, 2, 3, 4]);
    w.commit(4);
    expect(w.wanted).toBe(6);
    w.space()!.set([5, 6, 7, 8, 9, 10]);
    w.commit(6);
    expect(w.wanted).toBe(0);
    await w.settle();
    expect(d.heard).toEqual([[100, 110]]);
  });

  test('shrink ends the region earlier when another connection takes the rest, never before the bytes it holds', () => {
    const d = fastDisk();
    const w = new BatchWriter(d.write, 100, 200, d.onWritten, 64, Number.POSITIVE_INFINITY);
    w.space()!.fill(1, 0, 30);
    w.commit(30);
    expect(w.shrink(150)).toBe(150);
    expect(w.wanted).toBe(20);
    expect(w.shrink(110)).toBe(130);
    expect(w.wanted).toBe(0);
    expect(w.shrink(190)).toBe(130);
  });
});
