// The two icon containers packaging needs, written from PNG files. Both formats are a small index in front of
// the PNG data: ICO (Windows, little-endian, PNG entries allowed since Vista) and ICNS (macOS, big-endian).

export interface SizedPng {
  size: number;
  png: Uint8Array;
}

const ICO_HEADER = 6;
const ICO_ENTRY = 16;

export function writeIco(images: readonly SizedPng[]): Buffer {
  if (images.length === 0) throw new Error('an ICO file needs at least one image');
  const header = Buffer.alloc(ICO_HEADER + ICO_ENTRY * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // 1 = icon (2 would be a cursor)
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, png }, i) => {
    if (size < 1 || size > 256) throw new Error(`an ICO image must be 1–256 pixels wide, not ${size}`);
    const at = ICO_HEADER + ICO_ENTRY * i;
    header.writeUInt8(size === 256 ? 0 : size, at); // 0 means 256
    header.writeUInt8(size === 256 ? 0 : size, at + 1);
    header.writeUInt8(0, at + 2); // no palette
    header.writeUInt8(0, at + 3);
    header.writeUInt16LE(1, at + 4); // colour planes
    header.writeUInt16LE(32, at + 6); // bits per pixel
    header.writeUInt32LE(png.length, at + 8);
    header.writeUInt32LE(offset, at + 12);
    offset += png.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.png)]);
}

export function readIco(file: Uint8Array): { size: number; png: Buffer }[] {
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (b.length < ICO_HEADER || b.readUInt16LE(0) !== 0 || b.readUInt16LE(2) !== 1) throw new Error('not an ICO file');
  const count = b.readUInt16LE(4);
  return Array.from({ length: count }, (_, i) => {
    const at = ICO_HEADER + ICO_ENTRY * i;
    const length = b.readUInt32LE(at + 8);
    const offset = b.readUInt32LE(at + 12);
    if (offset + length > b.length) throw new Error(`ICO entry ${i} runs past the end of the file`);
    return { size: b.readUInt8(at) || 256, png: b.subarray(offset, offset + length) };
  });
}

export function writeIcns(entries: readonly { type: string; png: Uint8Array }[]): Buffer {
  const parts = entries.map(({ type, png }) => {
    if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Error(`an ICNS type is four ASCII characters, not "${type}"`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(8 + png.length, 4); // the length counts the entry's own header
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

export function readIcns(file: Uint8Array): { type: string; png: Buffer }[] {
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (b.length < 8 || b.toString('latin1', 0, 4) !== 'icns' || b.readUInt32BE(4) !== b.length)
    throw new Error('not an ICNS file');
  const entries: { type: string; png: Buffer }[] = [];
  for (let at = 8; at < b.length;) {
    const length = b.readUInt32BE(at + 4);
    if (length < 8 || at + length > b.length) throw new Error(`ICNS entry at byte ${at} has a bad length`);
    entries.push({ type: b.toString('latin1', at, at + 4), png: b.subarray(at + 8, at + length) });
    at += length;
  }
  return entries;
}
