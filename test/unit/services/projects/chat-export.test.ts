import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Conversation } from '../../../../src-main/ipc/contract.ts';
import { conversationMarkdown, exportChat } from '../../../../src-main/services/projects/chat-export.ts';
import { nodeFileSystem } from '../../../../src-main/services/projects/file-system.ts';
import { ImagePool } from '../../../../src-main/services/projects/image-pool.ts';
import { readRecipe } from '../../../../src-main/services/projects/png-recipe.ts';
import { image, recipe, tempDir } from './project-fixtures.ts';

const at = '2026-12-01T10:00:00.000Z';

describe('a conversation as Markdown', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    tmp = await tempDir();
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  test('images as "image N" links, messages in order, a stopped answer marked, a picture linked with its recipe facts', async () => {
    const png = (r: number) =>
      sharp({ create: { width: 4, height: 3, channels: 3, background: { r, g: 0, b: 0 } } })
        .png()
        .toBuffer();
    const input = image(new Uint8Array(await png(10)));
    const out = image(new Uint8Array(await png(200)));
    const r = recipe({ prompt: 'Draw it blue.', seed: 9, width: 64, height: 48, steps: 2 });
    const conversation: Conversation = {
      id: 'chat-1',
      createdAt: at,
      images: [input.hash],
      messages: [
        { id: 'm1', role: 'user', text: 'What is in image 1?', at, stopped: false, resultId: null },
        { id: 'm2', role: 'assistant', text: 'A red\nball', at, stopped: true, resultId: null },
        { id: 'm3', role: 'user', text: 'Draw it blue.', at, stopped: false, resultId: null },
        { id: 'm4', role: 'assistant', text: '<|img|>', at, stopped: false, resultId: 'res-1' },
      ],
    };
    const pool = new ImagePool();
    const written = await exportChat(nodeFileSystem, pool, {
      folder: tmp.dir,
      fileName: 'talk',
      conversation,
      pictures: [{ resultId: 'res-1', image: out.hash, recipe: r }],
      images: [input, out],
    });
    expect(written.map((p) => p.slice(tmp.dir.length + 1))).toEqual([
      'talk.md',
      'talk-image-1.png',
      'talk-picture-1.png',
    ]);
    expect((await readdir(tmp.dir)).sort()).toEqual(['talk-image-1.png', 'talk-picture-1.png', 'talk.md']);
    const md = await readFile(join(tmp.dir, 'talk.md'), 'utf8');
    expect(md).toBe(
      conversationMarkdown(conversation, {
        inputs: ['talk-image-1.png'],
        pictures: new Map([['res-1', { file: 'talk-picture-1.png', recipe: r }]]),
      }),
    );
    expect(md).toContain('- image 1: ![image 1](talk-image-1.png)');
    expect(md).toContain('**You**:\n\n> What is in image 1?');
    expect(md).toContain('**OmniGen2**: *(stopped)*\n\n> A red\n> ball');
    expect(md).toContain('![Draw it blue.](talk-picture-1.png)');
    expect(md).toContain('*Picture: 64 × 48, seed 9, 2 steps, chat-mode conditioning.*');
    expect(readRecipe(await readFile(join(tmp.dir, 'talk-picture-1.png')))).toEqual(r);
  });

  test('a bad name or a missing image writes nothing', async () => {
    const conversation: Conversation = { id: 'c', createdAt: at, images: ['a'.repeat(64)], messages: [] };
    const pool = new ImagePool();
    await expect(
      exportChat(nodeFileSystem, pool, { folder: tmp.dir, fileName: '../x', conversation, pictures: [], images: [] }),
    ).rejects.toMatchObject({ code: 'invalid-request' });
    await expect(
      exportChat(nodeFileSystem, pool, { folder: tmp.dir, fileName: 'x', conversation, pictures: [], images: [] }),
    ).rejects.toMatchObject({ code: 'invalid-request' });
    expect(await readdir(tmp.dir)).toEqual([]);
  });
});
