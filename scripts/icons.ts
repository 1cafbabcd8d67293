// `npm run icons`: renders the SVG master of the app icon to every PNG size, then packs the Windows .ico and
// the macOS .icns from those PNGs. The outputs are committed; run this after changing resources/icon.svg.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { writeIcns, writeIco } from './icons/containers.ts';
import {
  ICNS_FILE,
  ICNS_TYPES,
  ICO_FILE,
  ICO_SIZES,
  ICON_MASTER,
  PNG_DIR,
  PNG_SIZES,
  pngPath,
} from './icons/icon-set.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const master = await readFile(join(root, ICON_MASTER));
await mkdir(join(root, PNG_DIR), { recursive: true });

const pngs = new Map<number, Buffer>();
for (const size of PNG_SIZES) {
  // Rendered at the target size (density scales the 1024-unit viewBox), so small sizes are rasterised directly
  // rather than shrunk from a large bitmap; compression level 9 and no metadata keep the committed files small.
  const png = await sharp(master, { density: (72 * size) / 1024 })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
  pngs.set(size, png);
  await writeFile(join(root, pngPath(size)), png);
}
const png = (size: number): Buffer =>
  pngs.get(size) ??
  (() => {
    throw new Error(`no ${size}px PNG was rendered`);
  })();

await writeFile(join(root, ICO_FILE), writeIco(ICO_SIZES.map((size) => ({ size, png: png(size) }))));
await writeFile(join(root, ICNS_FILE), writeIcns(ICNS_TYPES.map(([type, size]) => ({ type, png: png(size) }))));
console.log(`wrote ${PNG_SIZES.length} PNGs in ${PNG_DIR}/, ${ICO_FILE} and ${ICNS_FILE}`);
