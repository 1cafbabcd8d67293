import { describe, expect, test } from 'vitest';
import type { Recipe } from '../../../src-main/ipc/contract.ts';
import {
  HistoryState,
  recipeText,
  type HistoryItem,
} from '../../../src-renderer/src/lib/history/history-state.svelte.ts';

const recipe: Recipe = {
  prompt: 'A red cube',
  negativePrompt: '',
  seed: 3,
  steps: 50,
  textGuidance: 5,
  imageGuidance: 1,
  cfgRange: [0, 1],
  scheduler: 'euler',
  width: 1024,
  height: 1024,
  maxPixels: 1048576,
  maxSideLength: 1024,
  numImages: 1,
  acceleration: 'none',
  inputImages: [],
  modelId: 'OmniGen2/OmniGen2',
  precision: 'fp16',
  appVersion: '0.1.0',
};
const item = (id: string, jobId = id): HistoryItem => ({
  id,
  jobId,
  image: `hash-${id}`,
  width: 1024,
  height: 1024,
  recipe,
  createdAt: '2026-11-26T12:00:00Z',
  inputs: [],
  mode: 'text-to-image',
  model: 'm',
});

describe('HistoryState', () => {
  test('newest first; a new run is selected', () => {
    const h = new HistoryState();
    h.add([item('a')]);
    h.add([item('b'), item('c', 'b')]);
    expect(h.items.map((i) => i.id)).toEqual(['b', 'c', 'a']);
    expect(h.selected?.id).toBe('b');
    expect(h.siblings.map((i) => i.id)).toEqual(['b', 'c']);
  });

  test('deleting the selected item selects its neighbour, then the one before, then nothing', () => {
    const h = new HistoryState();
    h.add([item('a')]);
    h.add([item('b')]);
    h.add([item('c')]);
    h.select('b');
    h.remove('b');
    expect(h.selected?.id).toBe('a');
    h.remove('a');
    expect(h.selected?.id).toBe('c');
    h.remove('c');
    expect(h.selected).toBeNull();
  });

  test('the copied recipe is the full recipe as JSON, with the mode', () => {
    const parsed = JSON.parse(recipeText(item('a')));
    expect(parsed).toMatchObject({ ...recipe, mode: 'text-to-image' });
  });
});
