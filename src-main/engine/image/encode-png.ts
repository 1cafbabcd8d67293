/**
 * RgbImage → PNG bytes with sharp, plus optional UTF-8 text chunks (png-text.ts), e.g. the generation recipe.
 */
import sharp from 'sharp';
import { addTextChunks } from './png-text.ts';
import type { RgbImage } from './rgb-image.ts';

export async function encodePng(image: RgbImage, text: Readonly<Record<string, string>> = {}): Promise<Buffer> {
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return Object.keys(text).length === 0 ? png : addTextChunks(png, text);
}
