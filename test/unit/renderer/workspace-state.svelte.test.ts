import { beforeEach, describe, expect, test } from 'vitest';
import { ImageStore } from '../../../src-renderer/src/lib/workspace/image-store.ts';
import {
  DEFAULT_PARAMETERS,
  IMAGE_GUIDANCE,
  OFFICIAL_NEGATIVE_PROMPT,
} from '../../../src-renderer/src/lib/workspace/parameters.ts';
import { WorkspaceState } from '../../../src-renderer/src/lib/workspace/workspace-state.svelte.ts';
import { fakeCodec, fakeFile, fakePng } from './fakes.ts';

let ws: WorkspaceState;
let store: ImageStore;
beforeEach(() => {
  store = new ImageStore(fakeCodec);
  let n = 0;
  ws = new WorkspaceState(store, () => `card-${++n}`);
});
const names = () => ws.doc.inputs.map((i) => i.name);

describe('inputs', () => {
  test('files become cards in order, with their size and content hash', async () => {
    await ws.addFiles([fakeFile('a.png', 640, 480, 1), fakeFile('b.png', 300, 200, 2)]);
    expect(names()).toEqual(['a.png', 'b.png']);
    const [a] = ws.doc.inputs;
    expect(a).toMatchObject({ width: 640, height: 480, crop: null });
    expect(a!.image).toMatch(/^[0-9a-f]{64}$/);
    expect(a!.image).toBe(a!.source);
    expect(store.get(a!.image)?.url).toMatch(/^blob:/);
  });

  test('at most five inputs; the rest are refused with a message that says so', async () => {
    await ws.addFiles([1, 2, 3, 4, 5, 6, 7].map((k) => fakeFile(`${k}.png`, 64, 64, k)));
    expect(ws.doc.inputs).toHaveLength(5);
    expect(ws.notice?.detail).toMatch(/only 5 images.*2 were left out/i);
  });

  test('a file that is not an image is named in the notice and changes nothing else', async () => {
    await ws.addFiles([new File(['hello'], 'notes.txt', { type: 'text/plain' }), fakeFile('ok.png', 64, 64)]);
    expect(names()).toEqual(['ok.png']);
    expect(ws.notice?.detail).toContain('notes.txt');
  });

  test('reorder, move to the ends, remove', async () => {
    await ws.addFiles(['a', 'b', 'c'].map((k, i) => fakeFile(k, 64, 64, i)));
    const [a, b, c] = ws.doc.inputs;
    ws.moveInput(c!.id, 0);
    expect(names()).toEqual(['c', 'a', 'b']);
    ws.moveInput(c!.id, 99);
    expect(names()).toEqual(['a', 'b', 'c']);
    ws.moveInput(a!.id, 1);
    expect(names()).toEqual(['b', 'a', 'c']);
    ws.removeInput(b!.id);
    expect(names()).toEqual(['a', 'c']);
  });

  test('a crop sends the cropped PNG and keeps the source; a whole-image crop removes it', async () => {
    await ws.addFiles([fakeFile('photo.png', 800, 600)]);
    const id = ws.doc.inputs[0]!.id;
    await ws.cropInput(id, { x: 100, y: 50, width: 400, height: 300 });
    const cropped = ws.doc.inputs[0]!;
    expect(cropped).toMatchObject({ width: 400, height: 300, crop: { x: 100, y: 50, width: 400, height: 300 } });
    expect(cropped.image).not.toBe(cropped.source);
    expect(ws.spec().inputs).toEqual([cropped.image]);
    await ws.cropInput(id, { x: 0, y: 0, width: 800, height: 600 });
    expect(ws.doc.inputs[0]).toMatchObject({ crop: null, width: 800, height: 600, image: cropped.source });
  });

  test('a result sent back replaces the inputs for multi-turn editing, or is added', async () => {
    await ws.addFiles([fakeFile('a', 64, 64, 1), fakeFile('b', 64, 64, 2)]);
    const result = await store.add(fakePng(512, 512, 9), 'image/png');
    ws.useImage(result.hash, 'add', 'result');
    expect(names()).toEqual(['a', 'b', 'result']);
    ws.useImage(result.hash, 'replace', 'result');
    expect(ws.doc.inputs.map((i) => i.image)).toEqual([result.hash]);
    expect(ws.mode).toBe('edit');
  });
});

describe('modes', () => {
  test('follow the inputs: none → create, one → edit, several → compose', async () => {
    expect(ws.mode).toBe('text-to-image');
    await ws.addFiles([fakeFile('a', 64, 64, 1)]);
    expect(ws.mode).toBe('edit');
    await ws.addFiles([fakeFile('b', 64, 64, 2)]);
    expect(ws.mode).toBe('compose');
  });

  test('an override wins until reset; create mode sends no images', async () => {
    await ws.addFiles([fakeFile('a', 64, 64, 1), fakeFile('b', 64, 64, 2)]);
    ws.setMode('text-to-image');
    expect(ws.mode).toBe('text-to-image');
    expect(ws.spec().inputs).toEqual([]);
    expect(ws.spec().recipe.imageGuidance).toBe(1);
    ws.setMode(null);
    expect(ws.mode).toBe('compose');
    ws.setMode('compose');
    expect(ws.doc.modeOverride).toBeNull(); // choosing the automatic mode is not an override
  });

  test('image guidance follows the mode (README: edit 1.2–2.0, in-context 2.5–3.0) until the user sets it', async () => {
    await ws.addFiles([fakeFile('a', 64, 64, 1)]);
    expect(ws.imageGuidance).toBe(IMAGE_GUIDANCE.edit.default);
    await ws.addFiles([fakeFile('b', 64, 64, 2)]);
    expect(ws.imageGuidance).toBe(IMAGE_GUIDANCE.compose.default);
    expect(ws.imageGuidance).toBeGreaterThanOrEqual(2.5);
    ws.setImageGuidance(1.6);
    ws.removeInput(ws.doc.inputs[1]!.id);
    expect(ws.imageGuidance).toBe(1.6);
  });

  test('one input fixes the output size (§5.1/§5.3); otherwise the chosen size is kept', async () => {
    expect(ws.outputSize).toEqual({ width: 1024, height: 1024, fromImage: false });
    await ws.addFiles([fakeFile('wide', 2050, 700)]);
    expect(ws.outputSize).toEqual({ width: 1024, height: 336, fromImage: true });
    await ws.addFiles([fakeFile('b', 64, 64, 2)]);
    ws.setSize(1344, 768);
    expect(ws.outputSize).toEqual({ width: 1344, height: 768, fromImage: false });
    expect(ws.spec().recipe).toMatchObject({ width: 1344, height: 768 });
  });
});

describe('parameters and generation spec', () => {
  test('defaults are the official CLI/demo values (§5.10), negative prompt included', () => {
    expect(ws.doc.params).toEqual(DEFAULT_PARAMETERS);
    expect(ws.doc.negativePrompt).toBe(OFFICIAL_NEGATIVE_PROMPT);
    expect(DEFAULT_PARAMETERS).toMatchObject({
      steps: 50,
      textGuidance: 5,
      cfgRange: [0, 1],
      scheduler: 'euler',
      width: 1024,
      height: 1024,
      maxPixels: 1048576,
      maxSideLength: 1024,
      numImages: 1,
      acceleration: 'none',
    });
  });

  test('typed values are clamped to their range and step', () => {
    ws.setNumber('steps', 1000);
    ws.setNumber('numImages', 0);
    ws.setSize(1000, 4);
    ws.setCfgRange(0.9, 0.2);
    expect(ws.doc.params).toMatchObject({ steps: 200, numImages: 1, width: 1008, height: 16, cfgRange: [0.2, 0.9] });
  });

  test('the spec carries the whole recipe, the inputs in order, and a trimmed prompt', async () => {
    await ws.addFiles([fakeFile('a', 64, 64, 1), fakeFile('b', 64, 64, 2)]);
    ws.setPrompt('  Edit the first image: add the cat from the second image.  ');
    ws.setNegativePrompt('blurry');
    ws.setSeed(42);
    const spec = ws.spec();
    expect(spec.mode).toBe('compose');
    expect(spec.inputs).toEqual(ws.doc.inputs.map((i) => i.image));
    expect(spec.recipe).toMatchObject({
      prompt: 'Edit the first image: add the cat from the second image.',
      negativePrompt: 'blurry',
      seed: 42,
      steps: 50,
      imageGuidance: 2.5,
    });
  });

  test('an unlocked seed moves on after each submit; a locked one stays', () => {
    ws.setSeed(7);
    ws.submitted();
    expect(ws.seed).not.toBe(7);
    ws.setSeed(7);
    ws.seedLocked = true;
    ws.submitted();
    expect(ws.seed).toBe(7);
  });

  test('the blocker says what is missing, in words', async () => {
    expect(ws.blocker).toBe('Describe the image you want.');
    ws.setMode('edit');
    expect(ws.blocker).toMatch(/Add an image/);
    await ws.addFiles([fakeFile('a', 64, 64)]);
    expect(ws.blocker).toBe('Write what to change in image 1.');
    ws.setPrompt('Make it blue');
    expect(ws.blocker).toBeNull();
  });

  test('references to images in the prompt are found, and missing ones flagged', async () => {
    await ws.addFiles([fakeFile('a', 64, 64, 1), fakeFile('b', 64, 64, 2)]);
    ws.setPrompt('Put the hat from image 2 on the second image and the dog from image 4');
    expect(ws.references).toEqual([2, 4]);
    expect(ws.missingReferences).toEqual([4]);
  });
});

describe('undo and redo', () => {
  test('each edit is one step; redo replays; a new edit clears redo', async () => {
    await ws.addFiles([fakeFile('a', 64, 64, 1), fakeFile('b', 64, 64, 2)]);
    const [a] = ws.doc.inputs;
    ws.moveInput(a!.id, 1);
    ws.removeInput(a!.id);
    expect(names()).toEqual(['b']);
    ws.undo();
    expect(names()).toEqual(['b', 'a']);
    ws.undo();
    expect(names()).toEqual(['a', 'b']);
    expect(ws.undoHistory.canRedo).toBe(true);
    ws.redo();
    expect(names()).toEqual(['b', 'a']);
    ws.setMode('text-to-image');
    expect(ws.undoHistory.canRedo).toBe(false);
  });

  test('a burst of typing undoes as one step; the seed is not part of undo', () => {
    for (const text of ['A', 'A c', 'A ca', 'A cat']) ws.setPrompt(text);
    ws.setNumber('steps', 30);
    ws.setSeed(5);
    ws.undo();
    expect(ws.doc.params.steps).toBe(50);
    ws.undo();
    expect(ws.doc.prompt).toBe('');
    expect(ws.seed).toBe(5);
    expect(ws.undoHistory.canUndo).toBe(false);
  });

  test('undo brings back a removed crop and its image', async () => {
    await ws.addFiles([fakeFile('photo', 800, 600)]);
    const id = ws.doc.inputs[0]!.id;
    await ws.cropInput(id, { x: 0, y: 0, width: 400, height: 400 });
    ws.removeInput(id);
    ws.undo();
    expect(ws.doc.inputs[0]).toMatchObject({ width: 400, height: 400 });
    expect(store.get(ws.doc.inputs[0]!.image)).toBeDefined();
  });
});
