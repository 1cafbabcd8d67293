// The app icon set: one SVG master and every file generated from it (`npm run icons`). The packaging
// configuration (build/electron-builder.yml), the window (src-main/index.ts) and the icon test read these names.

/** Relative to the repository root. */
export const ICON_MASTER = 'resources/icon.svg';
/** Linux wants a folder of `<n>x<n>.png` files (electron-builder reads the size from the name). */
export const PNG_DIR = 'resources/icons';
export const ICO_FILE = 'resources/icon.ico';
export const ICNS_FILE = 'resources/icon.icns';

export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
/** Windows shows 16–48 in lists and the taskbar and 256 in large views; electron-builder requires 256. */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;

/** ICNS entry types holding PNG data, each with its pixel size (the @2x types hold twice the point size). */
export const ICNS_TYPES: readonly (readonly [type: string, size: number])[] = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32],
  ['icp6', 64],
  ['ic12', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic13', 256],
  ['ic09', 512],
  ['ic14', 512],
  ['ic10', 1024],
];

export function pngPath(size: number): string {
  return `${PNG_DIR}/${size}x${size}.png`;
}
