import type { ImageHash, ProjectDocument, ProjectImage } from '../../ipc/contract.ts';
import { ProjectError } from './project-errors.ts';
import { sha256Hex } from './project-format.ts';
import { imageRefs } from './project-schema.ts';

/**
 * The images of the open project, by sha256, kept in main so that each image crosses IPC once: the renderer
 * sends only images main has not seen. Nothing is dropped until another project is opened or created, so an
 * undo in the renderer can refer to an image again without resending it.
 */
export class ImagePool {
  #images = new Map<ImageHash, Uint8Array>();

  replace(images: ReadonlyMap<ImageHash, Uint8Array>): void {
    this.#images = new Map(images);
  }

  /** Checks every image before keeping any, so a bad one leaves the pool unchanged. */
  add(images: readonly ProjectImage[]): void {
    for (const { hash, bytes } of images) {
      const actual = sha256Hex(bytes);
      if (actual !== hash) {
        throw new ProjectError('invalid-request', 'wrong-hash', `an image sent as ${hash} has the sha256 ${actual}`, {
          image: hash,
        });
      }
    }
    for (const { hash, bytes } of images) this.#images.set(hash, bytes);
  }

  /** The images `doc` needs stored with it: every required one (or 'missing-image'), and the optional ones known. */
  select(doc: ProjectDocument): Map<ImageHash, Uint8Array> {
    const { required, optional } = imageRefs(doc);
    const selected = new Map<ImageHash, Uint8Array>();
    for (const hash of required) {
      const bytes = this.#images.get(hash);
      if (!bytes) {
        throw new ProjectError(
          'invalid-request',
          'missing-image',
          `image ${hash} is used by the project, but its bytes were never sent; send it in "images"`,
          { image: hash },
        );
      }
      selected.set(hash, bytes);
    }
    for (const hash of optional) {
      const bytes = this.#images.get(hash);
      if (bytes) selected.set(hash, bytes);
    }
    return selected;
  }

  get(hash: ImageHash): Uint8Array | undefined {
    return this.#images.get(hash);
  }

  static toList(images: ReadonlyMap<ImageHash, Uint8Array>): ProjectImage[] {
    return [...images].map(([hash, bytes]) => ({ hash, bytes }));
  }
}
