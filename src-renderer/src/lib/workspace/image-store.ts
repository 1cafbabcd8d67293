import type { CropRect, ImageHash } from '../../../../src-main/ipc/contract.ts';

/** The pixel work the browser does for us; a fake stands in for it in unit tests (no DOM there). */
export interface ImageCodec {
  /** Pixel size; rejects when the bytes are not an image this browser can decode. */
  measure(bytes: Uint8Array, type: string): Promise<{ width: number; height: number }>;
  /** PNG bytes of the region `rect` (source pixels). */
  crop(bytes: Uint8Array, type: string, rect: CropRect): Promise<Uint8Array>;
  /** PNG bytes of the whole image. */
  toPng(bytes: Uint8Array, type: string): Promise<Uint8Array>;
}

export interface StoredImage {
  hash: ImageHash;
  bytes: Uint8Array;
  type: string;
  width: number;
  height: number;
  /** A blob: URL for <img>. */
  url: string;
}

/** Formats the engine decodes itself (GenerateRequest.images); anything else the browser reads is sent as PNG. */
const ENGINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);

/**
 * Every image of the session (inputs, crops, results, previews of history), content-addressed by the sha256 of its
 * bytes: the same hash as Recipe.inputImages and the project format. Entries live for the whole session because
 * undo and history can bring any of them back, so their blob URLs are never revoked.
 */
export class ImageStore {
  readonly #images = new Map<ImageHash, StoredImage>();

  constructor(private readonly codec: ImageCodec) {}

  /** Stores an encoded image; rejects with a plain-language Error when it cannot be read. */
  async add(bytes: Uint8Array, declaredType: string): Promise<StoredImage> {
    let type = sniffType(bytes) ?? declaredType;
    let size: { width: number; height: number };
    try {
      size = await this.codec.measure(bytes, type);
    } catch {
      throw new Error('this is not an image Atelier can read');
    }
    if (!ENGINE_TYPES.has(type)) {
      bytes = await this.codec.toPng(bytes, type);
      type = 'image/png';
    }
    const hash = await sha256Hex(bytes);
    const known = this.#images.get(hash);
    if (known) return known;
    const image: StoredImage = {
      hash,
      bytes,
      type,
      ...size,
      url: URL.createObjectURL(new Blob([bytes as BlobPart], { type })),
    };
    this.#images.set(hash, image);
    return image;
  }

  /** Stores the PNG of a region of a stored image. */
  async crop(hash: ImageHash, rect: CropRect): Promise<StoredImage> {
    const source = this.require(hash);
    return this.add(await this.codec.crop(source.bytes, source.type, rect), 'image/png');
  }

  get(hash: ImageHash): StoredImage | undefined {
    return this.#images.get(hash);
  }

  require(hash: ImageHash): StoredImage {
    const image = this.#images.get(hash);
    if (!image) throw new Error(`image ${hash.slice(0, 12)} is no longer available`);
    return image;
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The real format from the first bytes: pasted and dropped files do not always declare it. */
export function sniffType(b: Uint8Array): string | null {
  const at = (i: number, ...xs: number[]) => xs.every((x, k) => b[i + k] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (at(0, 0x42, 0x4d)) return 'image/bmp';
  return null;
}
