import sharp from 'sharp';
import type { Page } from 'playwright-core';

/** A small picture drawn from SVG (a scene with a coloured subject), so inputs look like inputs in screenshots. */
export async function scenePng(o: {
  width: number;
  height: number;
  sky: string;
  ground: string;
  subject: string;
  shape: 'circle' | 'square';
}): Promise<Buffer> {
  const { width: w, height: h } = o;
  const subject =
    o.shape === 'circle'
      ? `<circle cx="${w * 0.5}" cy="${h * 0.55}" r="${Math.min(w, h) * 0.22}" fill="${o.subject}"/>`
      : `<rect x="${w * 0.34}" y="${h * 0.36}" width="${w * 0.32}" height="${w * 0.32}" rx="${w * 0.03}" fill="${o.subject}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${o.sky}"/><stop offset="1" stop-color="#ffffff"/></linearGradient></defs>
    <rect width="${w}" height="${h}" fill="url(#s)"/><rect y="${h * 0.7}" width="${w}" height="${h * 0.3}" fill="${o.ground}"/>${subject}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export async function twoScenes(): Promise<{ name: string; mimeType: string; buffer: Buffer }[]> {
  return [
    {
      name: 'red-ball.png',
      mimeType: 'image/png',
      buffer: await scenePng({
        width: 640,
        height: 480,
        sky: '#8ec5ff',
        ground: '#6aa84f',
        subject: '#d9342b',
        shape: 'circle',
      }),
    },
    {
      name: 'blue-box.png',
      mimeType: 'image/png',
      buffer: await scenePng({
        width: 512,
        height: 640,
        sky: '#ffd59e',
        ground: '#a67c52',
        subject: '#2b5fd9',
        shape: 'square',
      }),
    },
  ];
}

/** Inputs small enough for the tiny model to encode quickly. */
export async function smallScenes(): Promise<{ name: string; mimeType: string; buffer: Buffer }[]> {
  return [
    {
      name: 'ball.png',
      mimeType: 'image/png',
      buffer: await scenePng({
        width: 96,
        height: 64,
        sky: '#8ec5ff',
        ground: '#6aa84f',
        subject: '#d9342b',
        shape: 'circle',
      }),
    },
    {
      name: 'box.png',
      mimeType: 'image/png',
      buffer: await scenePng({
        width: 64,
        height: 64,
        sky: '#ffd59e',
        ground: '#a67c52',
        subject: '#2b5fd9',
        shape: 'square',
      }),
    },
  ];
}

/** Drops files on the workspace the way a file manager does: dragenter, dragover, drop with a DataTransfer. */
export async function dropFiles(
  page: Page,
  files: { name: string; mimeType: string; buffer: Buffer }[],
): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.mimeType, base64: f.buffer.toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const it of items) {
      const bytes = Uint8Array.from(atob(it.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], it.name, { type: it.type }));
    }
    return dt;
  }, payload);
  const target = page.locator('section.workspace');
  for (const type of ['dragenter', 'dragover', 'drop']) await target.dispatchEvent(type, { dataTransfer });
}

/** Input card labels in their on-screen order ("image 1: red-ball.png, …"). */
export async function inputOrder(page: Page): Promise<string[]> {
  return page.locator('.input-card .input-name').allTextContents();
}
