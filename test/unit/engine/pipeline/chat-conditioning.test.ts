import { describe, expect, test } from 'vitest';
import { dropImagePads } from '../../../../src-main/engine/pipeline/chat-conditioning.ts';

describe('dropImagePads (§2.2: image-pad positions removed before the DiT)', () => {
  test('keeps the other rows in order, compacted to the front', () => {
    const ids = [5, 9, 9, 6, 9, 7];
    const hidden = Float32Array.from({ length: ids.length * 2 }, (_, i) => i);
    const out = dropImagePads(hidden, ids, 9, 2);
    expect(out.ids).toEqual([5, 6, 7]);
    expect(Array.from(out.hidden)).toEqual([0, 1, 6, 7, 10, 11]);
  });
  test('no pads: a copy of everything', () => {
    expect(Array.from(dropImagePads(Float32Array.of(1, 2), [3], 9, 2).hidden)).toEqual([1, 2]);
  });
  test('rejects states that do not match the ids', () => {
    expect(() => dropImagePads(new Float32Array(5), [1, 2], 9, 2)).toThrow(/5 hidden values for 2 tokens/);
  });
});
