/**
 * Any image file sharp reads (PNG, JPEG, WebP, GIF, TIFF, AVIF/HEIF, …) → 8-bit RGB HWC.
 * - EXIF orientation is applied (the reference's inference.py does `ImageOps.exif_transpose`);
 * - transparency is composited on white (the reference's `convert("RGB")` drops alpha, which turns
 *   transparent areas into whatever colour they happen to store, usually black; white is what users expect);
 * - greyscale, CMYK, 16-bit and palette images become 8-bit sRGB; animated images yield their first frame.
 */
import sharp from 'sharp';
import { ImageError } from './image-error.ts';
import { rgbImage, type RgbImage } from './rgb-image.ts';

/** Decode limit: sharp's default (0x3FFF²), far above any size the pipeline accepts before resizing. */
const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

/**
 * @param input file path or encoded bytes
 * @param label how to name the image in error messages (defaults to the path, or "image data")
 */
export async function decodeImage(input: string | Uint8Array, label?: string): Promise<RgbImage> {
  const name = label ?? (typeof input === 'string' ? input : 'image data');
  try {
    const { data, info } = await sharp(input, { autoOrient: true, failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new ImageError('unreadable', `${name}: decoded to ${info.channels} channels instead of RGB`);
    }
    return rgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError('unreadable', `${name} is not a readable image: ${(e as Error).message}`, { cause: e });
  }
}
