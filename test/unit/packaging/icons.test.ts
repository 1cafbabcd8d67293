import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { readIcns, readIco, writeIcns, writeIco } from '../../../scripts/icons/containers.ts';
import {
  ICNS_FILE,
  ICNS_TYPES,
  ICO_FILE,
  ICO_SIZES,
  ICON_MASTER,
  PNG_SIZES,
  pngPath,
} from '../../../scripts/icons/icon-set.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string) => readFileSync(join(root, p));

async function dimensions(png: Uint8Array): Promise<[number, number, string]> {
  const m = await sharp(png).metadata();
  return [m.width, m.height, m.format];
}

describe('the committed icon set (npm run icons)', () => {
  test('every PNG size exists, square, at its size', async () => {
    for (const size of PNG_SIZES) {
      expect(existsSync(join(root, pngPath(size))), pngPath(size)).toBe(true);
      expect(await dimensions(read(pngPath(size)))).toEqual([size, size, 'png']);
    }
  });

  test('the PNGs are rendered from the current SVG master', async () => {
    for (const size of [32, 256]) {
      const fresh = await sharp(read(ICON_MASTER), { density: (72 * size) / 1024 })
        .resize(size, size)
        .ensureAlpha()
        .raw()
        .toBuffer();
      const committed = await sharp(read(pngPath(size)))
        .ensureAlpha()
        .raw()
        .toBuffer();
      expect(committed.length).toBe(fresh.length);
      const worst = committed.reduce((m, v, i) => Math.max(m, Math.abs(v - fresh[i]!)), 0);
      expect(worst, `${pngPath(size)} differs from ${ICON_MASTER}: run npm run icons`).toBeLessThanOrEqual(2);
    }
  });

  test('the .ico holds the Windows sizes, 256 included, as the committed PNGs', async () => {
    const entries = readIco(read(ICO_FILE));
    expect(entries.map((e) => e.size)).toEqual([...ICO_SIZES]);
    for (const e of entries) {
      expect(e.png.equals(read(pngPath(e.size)))).toBe(true);
      expect(await dimensions(e.png)).toEqual([e.size, e.size, 'png']);
    }
  });

  test('the .icns holds every macOS type, 16 to 1024 (512@2x), as the committed PNGs', async () => {
    const entries = readIcns(read(ICNS_FILE));
    expect(entries.map((e) => e.type)).toEqual(ICNS_TYPES.map(([t]) => t));
    for (const [i, [, size]] of ICNS_TYPES.entries()) {
      expect(entries[i]!.png.equals(read(pngPath(size)))).toBe(true);
      expect(await dimensions(entries[i]!.png)).toEqual([size, size, 'png']);
    }
  });
});

describe('icon containers', () => {
  const a = Uint8Array.from([1, 2, 3]);
  const b = Uint8Array.from([4, 5, 6, 7, 8]);

  test('ICO: header, entry sizes (256 stored as 0) and data offsets round-trip', () => {
    const file = writeIco([
      { size: 16, png: a },
      { size: 256, png: b },
    ]);
    expect([...file.subarray(0, 6)]).toEqual([0, 0, 1, 0, 2, 0]);
    expect(file[6 + 16]).toBe(0);
    expect(file.length).toBe(6 + 2 * 16 + a.length + b.length);
    expect(readIco(file).map((e) => [e.size, [...e.png]])).toEqual([
      [16, [1, 2, 3]],
      [256, [4, 5, 6, 7, 8]],
    ]);
  });

  test('ICO refuses what it cannot hold', () => {
    expect(() => writeIco([])).toThrow(/at least one/);
    expect(() => writeIco([{ size: 512, png: a }])).toThrow(/1–256/);
    expect(() => readIco(Uint8Array.from([0, 0, 2, 0, 0, 0]))).toThrow(/not an ICO/);
  });

  test('ICNS: big-endian lengths that count their own headers round-trip', () => {
    const file = writeIcns([
      { type: 'icp4', png: a },
      { type: 'ic10', png: b },
    ]);
    expect(file.toString('latin1', 0, 4)).toBe('icns');
    expect(file.readUInt32BE(4)).toBe(file.length);
    expect(file.readUInt32BE(12)).toBe(8 + a.length);
    expect(readIcns(file).map((e) => [e.type, [...e.png]])).toEqual([
      ['icp4', [1, 2, 3]],
      ['ic10', [4, 5, 6, 7, 8]],
    ]);
  });

  test('ICNS refuses bad types and truncated files', () => {
    expect(() => writeIcns([{ type: 'ic1', png: a }])).toThrow(/four ASCII/);
    const file = writeIcns([{ type: 'icp4', png: a }]);
    expect(() => readIcns(file.subarray(0, file.length - 1))).toThrow(/not an ICNS/);
  });
});
