import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { addTextChunks, readTextChunks } from '../../../../src-main/engine/image/png-text.ts';
import {
  PARAMETERS_KEY,
  RECIPE_KEY,
  RECIPE_VERSION,
  embedRecipe,
  formatParameters,
  readRecipe,
} from '../../../../src-main/services/projects/png-recipe.ts';
import { image, recipe, tempDir, testApi, value } from './project-fixtures.ts';

let png: Buffer;
beforeAll(async () => {
  png = await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 40, b: 20 } } })
    .png()
    .toBuffer();
});

describe('recipe in a PNG', () => {
  test('embed → read gives back the recipe; the pixels are untouched', async () => {
    const r = recipe({ prompt: 'ein roter Fuchs 🦊, "quoted", with, commas', inputImages: ['a'.repeat(64)] });
    const tagged = embedRecipe(png, r);
    expect(readRecipe(tagged)).toEqual(r);
    const [before, after] = await Promise.all([png, tagged].map((p) => sharp(p).raw().toBuffer()));
    expect(Buffer.compare(after!, before!)).toBe(0);
  });

  test('other tools see a human-readable "parameters" text', async () => {
    const r = recipe();
    const tagged = embedRecipe(png, r);
    const comments = (await sharp(tagged).metadata()).comments ?? [];
    expect(comments.find((c) => c.keyword === PARAMETERS_KEY)?.text).toBe(formatParameters(r));
    expect(formatParameters(r)).toBe(
      [
        'a red fox in the snow',
        'Negative prompt: blurry',
        'Steps: 50, Sampler: euler, CFG scale: 5, Image CFG scale: 2, CFG range: 0-1, Seed: 42, Size: 1024x1024, Model: OmniGen2, Precision: bf16, Version: Atelier 0.1.0',
      ].join('\n'),
    );
  });

  test('re-embedding replaces the recipe instead of adding a second one', () => {
    const twice = embedRecipe(embedRecipe(png, recipe({ seed: 1 })), recipe({ seed: 2 }));
    expect(readRecipe(twice).seed).toBe(2);
    expect(Buffer.from(twice).toString('latin1').split(RECIPE_KEY)).toHaveLength(2);
  });

  test('a PNG without a recipe → not-found/no-recipe', () => {
    expect(() => readRecipe(png)).toThrow(
      expect.objectContaining({ code: 'not-found', detail: { reason: 'no-recipe' } }),
    );
  });

  test('not a PNG → unsupported/not-png; a damaged PNG → corrupt-file/bad-png', async () => {
    const jpeg = await sharp(png).jpeg().toBuffer();
    expect(() => readRecipe(jpeg)).toThrow(
      expect.objectContaining({ code: 'unsupported', detail: { reason: 'not-png' } }),
    );
    const damaged = Buffer.from(embedRecipe(png, recipe()));
    damaged[40] = damaged.readUInt8(40) ^ 0xff;
    expect(() => readRecipe(damaged)).toThrow(
      expect.objectContaining({ code: 'corrupt-file', detail: { reason: 'bad-png' } }),
    );
  });

  test('a mangled recipe → corrupt-file/bad-recipe; a newer recipe format → from-future', () => {
    const withText = (text: string) => addTextChunks(png, { [RECIPE_KEY]: text });
    expect(() => readRecipe(withText('{not json'))).toThrow(
      expect.objectContaining({ code: 'corrupt-file', detail: { reason: 'bad-recipe' } }),
    );
    expect(() => readRecipe(withText(JSON.stringify({ version: 1, recipe: { ...recipe(), steps: 'many' } })))).toThrow(
      expect.objectContaining({ message: expect.stringContaining('recipe.steps') }),
    );
    expect(() => readRecipe(withText(JSON.stringify({ version: RECIPE_VERSION + 1, recipe: recipe() })))).toThrow(
      expect.objectContaining({ code: 'from-future' }),
    );
  });

  test('a chat-mode recipe keeps its conversation; a format-1 recipe (before chat) still reads', () => {
    const chat = recipe({
      prompt: 'Draw it blue.',
      chat: {
        history: [
          { role: 'user', text: 'What is in image 2?' },
          { role: 'assistant', text: 'A sofa.' },
        ],
      },
    });
    expect(readRecipe(embedRecipe(png, chat))).toEqual(chat);
    expect(readRecipe(addTextChunks(png, { [RECIPE_KEY]: JSON.stringify({ version: 1, recipe: recipe() }) }))).toEqual(
      recipe(),
    );
  });
});

describe('export and import through the API', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  test('selected results become PNG files whose recipe reads back', async () => {
    const { api } = testApi(join(dir, 'userData'));
    const [a, b] = [image(png), image(await sharp(png).flip().png().toBuffer())];
    const items = [
      { image: a.hash, recipe: recipe({ seed: 1 }), fileName: 'fox-1' },
      { image: b.hash, recipe: recipe({ seed: 2 }), fileName: 'fox-2.png' },
    ];
    const paths = await value(api.exportPng({ folder: dir, items, images: [a, b] }));
    expect(paths).toEqual([join(dir, 'fox-1.png'), join(dir, 'fox-2.png')]);
    for (const [i, path] of paths.entries()) {
      const bytes = await readFile(path);
      expect(await value(api.readRecipe(bytes))).toEqual(items[i]!.recipe);
      expect(readTextChunks(bytes)[PARAMETERS_KEY]).toContain(`Seed: ${i + 1}`);
    }
  });

  test('one bad item (a path as file name, an unknown image) means no file is written', async () => {
    const { api } = testApi(join(dir, 'userData'));
    const a = image(png);
    const good = { image: a.hash, recipe: recipe(), fileName: 'ok' };
    await expect(
      api.exportPng({ folder: dir, items: [good, { ...good, fileName: '../escape' }], images: [a] }),
    ).rejects.toMatchObject({ code: 'invalid-request', detail: { reason: 'bad-name' } });
    await expect(
      api.exportPng({ folder: dir, items: [good, { ...good, image: 'e'.repeat(64), fileName: 'x' }], images: [a] }),
    ).rejects.toMatchObject({ detail: { reason: 'missing-image' } });
    await expect(
      api.exportPng({ folder: dir, items: [good, { ...good, fileName: 'OK.png' }], images: [a] }),
    ).rejects.toMatchObject({ detail: { reason: 'bad-name' } });
    expect(await readdir(dir)).toEqual([]);
  });
});
