import { ImageError } from './image-error.ts';

/** An 8-bit RGB image, row-major HWC (`data[(y·width + x)·3 + c]`), the engine's exchange format for pixels. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Wraps pixels as an RgbImage after checking that the buffer holds exactly width × height × 3 bytes. */
export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new ImageError('bad-size', `image size must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new ImageError(
      'bad-argument',
      `an RGB ${width}×${height} image needs ${width * height * 3} bytes, got ${data.length}`,
    );
  }
  return { width, height, data };
}
