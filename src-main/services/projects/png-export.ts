import { isAbsolute, join } from 'node:path';
import type { ExportPngRequest } from '../../ipc/contract.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { FileSystem } from './file-system.ts';
import type { ImagePool } from './image-pool.ts';
import { ProjectError } from './project-errors.ts';
import { embedRecipe } from './png-recipe.ts';

// Names must stay inside the chosen folder and be valid on every platform (Windows forbids these characters).
// eslint-disable-next-line no-control-regex -- control characters are what it forbids
export const BAD_NAME = /[/\\<>:"|?*\u0000-\u001f]/;

/**
 * Writes each item as a PNG with its recipe embedded. Every item is checked (name, image present, PNG) before
 * the first file is written, so a bad request writes nothing; each file is written atomically.
 */
export async function exportPngs(fs: FileSystem, pool: ImagePool, req: ExportPngRequest): Promise<string[]> {
  if (!isAbsolute(req.folder))
    throw new ProjectError('invalid-request', 'bad-name', `"${req.folder}" is not an absolute folder`, {
      path: req.folder,
    });
  pool.add(req.images);
  const seen = new Set<string>();
  const planned = req.items.map((item) => {
    const name = /\.png$/i.test(item.fileName) ? item.fileName : `${item.fileName}.png`;
    if (
      item.fileName.trim() === '' ||
      item.fileName.startsWith('.') ||
      BAD_NAME.test(item.fileName) ||
      name.length > 200
    ) {
      throw new ProjectError('invalid-request', 'bad-name', `"${item.fileName}" is not a plain file name`, {
        fileName: item.fileName,
      });
    }
    if (seen.has(name.toLowerCase()))
      throw new ProjectError('invalid-request', 'bad-name', `"${name}" is exported twice`, { fileName: name });
    seen.add(name.toLowerCase()); // case-insensitive: on macOS and Windows the two would be one file
    const bytes = pool.get(item.image);
    if (!bytes)
      throw new ProjectError(
        'invalid-request',
        'missing-image',
        `image ${item.image} was never sent; send it in "images"`,
        { image: item.image },
      );
    return { path: join(req.folder, name), png: embedRecipe(bytes, item.recipe) };
  });
  for (const file of planned) await writeFileAtomic(fs, file.path, [file.png]);
  return planned.map((f) => f.path);
}
