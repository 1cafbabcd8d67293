import type { CropRect } from '../../../../src-main/ipc/contract.ts';
import type { ImageCodec } from './image-store.ts';

/** ImageCodec on the browser's own decoders and an OffscreenCanvas: no Node, no extra packages. */
export const browserCodec: ImageCodec = {
  async measure(bytes, type) {
    const bitmap = await createImageBitmap(blob(bytes, type));
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  },
  async crop(bytes, type, rect) {
    const r = whole(rect);
    const bitmap = await createImageBitmap(blob(bytes, type), r.x, r.y, r.width, r.height);
    return encodePng(bitmap);
  },
  async toPng(bytes, type) {
    return encodePng(await createImageBitmap(blob(bytes, type)));
  },
};

function blob(bytes: Uint8Array, type: string): Blob {
  return new Blob([bytes as BlobPart], { type });
}

/** Crops are whole pixels: the engine resizes to multiples of 16 anyway, and fractional edges would blur. */
function whole(rect: CropRect): CropRect {
  const x = Math.round(rect.x);
  const y = Math.round(rect.y);
  return {
    x,
    y,
    width: Math.max(1, Math.round(rect.x + rect.width) - x),
    height: Math.max(1, Math.round(rect.y + rect.height) - y),
  };
}

async function encodePng(bitmap: ImageBitmap): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}
