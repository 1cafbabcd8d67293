import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { encodePng } from '../../../../src-main/engine/image/encode-png.ts';
import { addTextChunks, readTextChunks } from '../../../../src-main/engine/image/png-text.ts';
import { rgbImage } from '../../../../src-main/engine/image/rgb-image.ts';

const image = rgbImage(
  3,
  2,
  Uint8Array.from({ length: 18 }, (_, i) => i * 14),
);

/** Chunk types in file order, parsed independently of png-text.ts. */
function chunkTypes(png: Uint8Array): string[] {
  const types: string[] = [];
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let pos = 8; pos < png.length; pos += 12 + view.getUint32(pos))
    types.push(Buffer.from(png.subarray(pos + 4, pos + 8)).toString('latin1'));
  return types;
}

/** A chunk built by hand (for tEXt/zTXt, which Atelier never writes). */
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

function insertAfterIhdr(png: Buffer, extra: Buffer): Buffer {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([png.subarray(0, ihdrEnd), extra, png.subarray(ihdrEnd)]);
}

describe('PNG text chunks', () => {
  const recipe = JSON.stringify({ prompt: '一只猫 🐱 on a “mat”', seed: 42 });

  test('round trip of UTF-8 iTXt, placed before the first IDAT, pixels untouched', async () => {
    const png = await encodePng(image, { 'atelier-recipe': recipe, Software: 'Atelier' });
    expect(readTextChunks(png)).toEqual({ 'atelier-recipe': recipe, Software: 'Atelier' });
    const types = chunkTypes(png);
    expect(types.lastIndexOf('iTXt')).toBeLessThan(types.indexOf('IDAT'));
    expect(types.filter((t) => t === 'iTXt').length).toBe(2);
    const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(Array.from(data)).toEqual(Array.from(image.data));
  });

  test("sharp's metadata().comments sees the chunks (so the CRCs and layout are valid)", async () => {
    const png = await encodePng(image, { 'atelier-recipe': recipe });
    const comments = (await sharp(png).metadata()).comments ?? [];
    expect(comments).toContainEqual({ keyword: 'atelier-recipe', text: recipe });
  });

  test('setting a keyword again replaces the old chunk', async () => {
    const once = await encodePng(image, { k: 'old', other: 'kept' });
    const twice = addTextChunks(once, { k: 'new' });
    expect(readTextChunks(twice)).toEqual({ k: 'new', other: 'kept' });
    expect(chunkTypes(twice).filter((t) => t === 'iTXt').length).toBe(2);
  });

  test('reads tEXt (Latin-1), zTXt (deflated) and compressed iTXt written by others', async () => {
    const plain = await encodePng(image);
    const tEXt = chunk('tEXt', Buffer.concat([Buffer.from('Comment\0', 'latin1'), Buffer.from('café', 'latin1')]));
    const zTXt = chunk(
      'zTXt',
      Buffer.concat([Buffer.from('Description\0\0', 'latin1'), deflateSync(Buffer.from('naïve', 'latin1'))]),
    );
    const iTXt = chunk(
      'iTXt',
      Buffer.concat([
        Buffer.from('Title\0\x01\0en\0', 'latin1'),
        Buffer.from('Titel\0', 'utf8'),
        deflateSync(Buffer.from('Ωmega', 'utf8')),
      ]),
    );
    const png = insertAfterIhdr(plain, Buffer.concat([tEXt, zTXt, iTXt]));
    expect(readTextChunks(png)).toEqual({ Comment: 'café', Description: 'naïve', Title: 'Ωmega' });
  });

  test('damaged PNGs and bad keywords are typed errors', async () => {
    const png = await encodePng(image, { k: 'v' });
    const corrupt = Buffer.from(png);
    corrupt[43] = corrupt[43]! ^ 0xff; // inside the data of the first chunk after IHDR (which starts at byte 33)
    expect(() => readTextChunks(corrupt)).toThrow(
      expect.objectContaining({ code: 'bad-png', message: expect.stringMatching(/CRC mismatch/) }),
    );
    expect(() => readTextChunks(png.subarray(0, png.length - 20))).toThrow(
      expect.objectContaining({ code: 'bad-png' }),
    );
    expect(() => readTextChunks(Buffer.from('GIF89a'))).toThrow(/signature/);
    for (const keyword of ['', ' lead', 'trail ', 'dou  ble', 'x'.repeat(80), 'emoji🐱']) {
      expect(() => addTextChunks(png, { [keyword]: 'v' }), keyword).toThrow(
        expect.objectContaining({ code: 'bad-argument' }),
      );
    }
    expect(() => addTextChunks(png, { k: 'nul\0inside' })).toThrow(/NUL/);
  });
});
