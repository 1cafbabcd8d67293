import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { decodeImage } from '../../../../src-main/engine/image/decode-image.ts';
import { ImageError } from '../../../../src-main/engine/image/image-error.ts';
import type { RgbImage } from '../../../../src-main/engine/image/rgb-image.ts';

const RED = [255, 0, 0];
const BLUE = [0, 0, 255];

/** 32×16 image: left half red, right half blue (flat blocks survive JPEG). */
function leftRedRightBlue(): Buffer {
  const w = 32,
    h = 16;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? RED : BLUE, (y * w + x) * 3);
  return raw;
}

const pixel = (img: RgbImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
const near = (got: number[], want: number[], tol = 12) => got.every((v, i) => Math.abs(v - want[i]!) <= tol);

describe('decodeImage', () => {
  test('PNG → RGB HWC, exact pixels', async () => {
    const raw = leftRedRightBlue();
    const png = await sharp(raw, { raw: { width: 32, height: 16, channels: 3 } })
      .png()
      .toBuffer();
    const img = await decodeImage(png);
    expect([img.width, img.height]).toEqual([32, 16]);
    expect(Buffer.from(img.data).equals(raw)).toBe(true);
  });

  // Where the red half ends up after applying each EXIF orientation (the stored image is 32×16, red on the left).
  test.each([
    { orientation: 1, size: [32, 16], red: [4, 8], blue: [28, 8] },
    { orientation: 3, size: [32, 16], red: [28, 8], blue: [4, 8] }, // 180°
    { orientation: 6, size: [16, 32], red: [8, 4], blue: [8, 28] }, // 90° clockwise: left → top
    { orientation: 8, size: [16, 32], red: [8, 28], blue: [8, 4] }, // 90° counter-clockwise: left → bottom
  ])('EXIF orientation $orientation is applied', async ({ orientation, size, red, blue }) => {
    const jpeg = await sharp(leftRedRightBlue(), { raw: { width: 32, height: 16, channels: 3 } })
      .jpeg({ quality: 100 })
      .withMetadata({ orientation })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(orientation);
    const img = await decodeImage(jpeg);
    expect([img.width, img.height]).toEqual(size);
    expect(near(pixel(img, red[0]!, red[1]!), RED), `red at ${red}: ${pixel(img, red[0]!, red[1]!)}`).toBe(true);
    expect(near(pixel(img, blue[0]!, blue[1]!), BLUE), `blue at ${blue}`).toBe(true);
  });

  test('alpha is composited on white', async () => {
    // transparent black, half-transparent red, opaque blue, opaque (10, 20, 30)
    const rgba = Buffer.from([0, 0, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255, 10, 20, 30, 255]);
    const png = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeImage(png);
    expect(pixel(img, 0, 0)).toEqual([255, 255, 255]);
    expect(near(pixel(img, 1, 0), [255, 127, 127], 1)).toBe(true);
    expect(pixel(img, 0, 1)).toEqual(BLUE);
    expect(pixel(img, 1, 1)).toEqual([10, 20, 30]);
  });

  test('16-bit grey with alpha becomes 8-bit RGB on white', async () => {
    const raw = Uint16Array.of(0, 0, 16384, 65535, 32768, 0, 49152, 65535); // (grey, alpha) × 4
    const png = await sharp(raw, { raw: { width: 4, height: 1, channels: 2 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const img = await decodeImage(png);
    expect(Array.from(img.data)).toEqual([255, 255, 255, 64, 64, 64, 255, 255, 255, 192, 192, 192]);
  });

  test('WebP decodes too', async () => {
    const webp = await sharp(leftRedRightBlue(), { raw: { width: 32, height: 16, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    const img = await decodeImage(webp);
    expect(pixel(img, 4, 8)).toEqual(RED);
  });

  test('unreadable input is an ImageError naming the image', async () => {
    await expect(decodeImage(Buffer.from('definitely not an image'), 'cat.png')).rejects.toMatchObject({
      code: 'unreadable',
      message: expect.stringContaining('cat.png'),
    });
    await expect(decodeImage('/nonexistent/dir/photo.jpg')).rejects.toBeInstanceOf(ImageError);
    const png = await sharp(leftRedRightBlue(), { raw: { width: 32, height: 16, channels: 3 } })
      .png()
      .toBuffer();
    await expect(decodeImage(png.subarray(0, 60))).rejects.toMatchObject({ code: 'unreadable' });
  });
});
