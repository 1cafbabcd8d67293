/**
 * PNG text chunks (PNG spec §11.3.4): write iTXt, read tEXt / zTXt / iTXt. sharp cannot write text chunks,
 * and its reader (`metadata().comments`) only reports text chunks placed before the first IDAT
 * (tech-notes.md §3.2), so new chunks go right before the first IDAT.
 *
 * Chunk layout: length (u32 BE, data only) | type (4 ASCII) | data | CRC-32 over type + data.
 * iTXt data: keyword (Latin-1, 1–79 bytes) 0 | compression flag | method | language tag 0 | translated keyword 0 | text (UTF-8).
 */
import { crc32, inflateSync } from 'node:zlib';
import { ImageError } from './image-error.ts';

type PngTextType = 'tEXt' | 'zTXt' | 'iTXt';
const isTextType = (type: string): type is PngTextType => type === 'tEXt' || type === 'zTXt' || type === 'iTXt';

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

interface ChunkSpan {
  readonly type: string;
  /** offset of the length field */
  readonly start: number;
  readonly data: Uint8Array;
}

function chunkSpans(png: Uint8Array): ChunkSpan[] {
  if (png.length < SIGNATURE.length || SIGNATURE.some((b, i) => png[i] !== b)) {
    throw new ImageError('bad-png', 'not a PNG file (the 8-byte PNG signature is missing)');
  }
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const spans: ChunkSpan[] = [];
  let pos = SIGNATURE.length;
  while (pos < png.length) {
    if (pos + 12 > png.length)
      throw new ImageError(
        'bad-png',
        `PNG truncated: chunk header at byte ${pos} runs past the end (${png.length} bytes)`,
      );
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (end > png.length)
      throw new ImageError(
        'bad-png',
        `PNG truncated: chunk at byte ${pos} declares ${length} data bytes, past the end`,
      );
    const typeBytes = png.subarray(pos + 4, pos + 8);
    const type = latin1(typeBytes);
    if (!/^[A-Za-z]{4}$/.test(type)) throw new ImageError('bad-png', `PNG corrupt: invalid chunk type at byte ${pos}`);
    const data = png.subarray(pos + 8, pos + 8 + length);
    if (crc32(data, crc32(typeBytes)) >>> 0 !== view.getUint32(pos + 8 + length)) {
      throw new ImageError('bad-png', `PNG corrupt: CRC mismatch in ${type} chunk at byte ${pos}`);
    }
    spans.push({ type, start: pos, data });
    pos = end;
    if (type === 'IEND') break;
  }
  return spans;
}

function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new TextEncoder().encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(data, crc32(typeBytes)) >>> 0);
  return out;
}

/** PNG keywords: 1–79 printable Latin-1 characters, no leading, trailing or consecutive spaces. */
function keywordBytes(keyword: string): Uint8Array {
  const printable = [...keyword].every((ch) => {
    const c = ch.codePointAt(0)!;
    return (c >= 32 && c <= 126) || (c >= 161 && c <= 255);
  });
  if (
    !printable ||
    keyword.length < 1 ||
    keyword.length > 79 ||
    keyword.startsWith(' ') ||
    keyword.endsWith(' ') ||
    keyword.includes('  ')
  ) {
    throw new ImageError(
      'bad-argument',
      `invalid PNG text keyword ${JSON.stringify(keyword)}: needs 1–79 printable Latin-1 characters without leading, trailing or double spaces`,
    );
  }
  return Uint8Array.from(keyword, (ch) => ch.charCodeAt(0));
}

function iTXtData(keyword: string, text: string): Uint8Array {
  if (text.includes('\0'))
    throw new ImageError('bad-argument', `PNG text for keyword "${keyword}" contains a NUL character`);
  const key = keywordBytes(keyword);
  const body = new TextEncoder().encode(text);
  // keyword 0 | flag 0 (uncompressed) | method 0 | empty language tag 0 | empty translated keyword 0 | text
  const out = new Uint8Array(key.length + 5 + body.length);
  out.set(key, 0);
  out.set(body, key.length + 5);
  return out;
}

/**
 * A copy of `png` with one uncompressed iTXt (UTF-8) chunk per entry inserted before the first IDAT.
 * Text chunks already carrying one of these keywords are dropped, so each keyword ends up once; all other
 * chunks are kept byte for byte.
 */
export function addTextChunks(png: Uint8Array, entries: Readonly<Record<string, string>>): Buffer {
  const spans = chunkSpans(png);
  const firstIdat = spans.findIndex((s) => s.type === 'IDAT');
  if (firstIdat < 0) throw new ImageError('bad-png', 'PNG has no IDAT chunk to insert text before');
  const added = Object.entries(entries).map(([k, v]) => encodeChunk('iTXt', iTXtData(k, v)));
  const replaced = (s: ChunkSpan) => isTextType(s.type) && Object.hasOwn(entries, parseText(s.type, s.data).keyword);
  const raw = (s: ChunkSpan) => png.subarray(s.start, s.start + 12 + s.data.length);
  const kept = spans.filter((s) => !replaced(s));
  const insertAt = kept.findIndex((s) => s.type === 'IDAT');
  return Buffer.concat([
    png.subarray(0, SIGNATURE.length),
    ...kept.slice(0, insertAt).map(raw),
    ...added,
    ...kept.slice(insertAt).map(raw),
  ]);
}

function splitNul(data: Uint8Array, from: number, what: string): [Uint8Array, number] {
  const nul = data.indexOf(0, from);
  if (nul < 0) throw new ImageError('bad-png', `PNG text chunk corrupt: ${what} is not NUL-terminated`);
  return [data.subarray(from, nul), nul + 1];
}

function inflate(bytes: Uint8Array, type: string): Uint8Array {
  try {
    return inflateSync(bytes);
  } catch (e) {
    throw new ImageError('bad-png', `PNG ${type} chunk has corrupt compressed text: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function parseText(type: PngTextType, data: Uint8Array): { keyword: string; text: string } {
  const [key, afterKey] = splitNul(data, 0, 'keyword');
  const keyword = latin1(key);
  if (type === 'tEXt') return { keyword, text: latin1(data.subarray(afterKey)) };
  if (type === 'zTXt') return { keyword, text: latin1(inflate(data.subarray(afterKey + 1), type)) };
  if (afterKey + 2 > data.length) throw new ImageError('bad-png', 'PNG iTXt chunk corrupt: compression fields missing');
  const compressed = data[afterKey] === 1;
  const [, afterLang] = splitNul(data, afterKey + 2, 'language tag');
  const [, afterTranslated] = splitNul(data, afterLang, 'translated keyword');
  const body = data.subarray(afterTranslated);
  return { keyword, text: new TextDecoder('utf-8').decode(compressed ? inflate(body, type) : body) };
}

/**
 * keyword → text of every tEXt, zTXt and iTXt chunk of `png` (iTXt decoded as UTF-8, the others as Latin-1).
 * If a keyword occurs more than once the later chunk wins, as in Pillow's `info`.
 */
export function readTextChunks(png: Uint8Array): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const s of chunkSpans(png)) {
    if (!isTextType(s.type)) continue;
    const { keyword, text } = parseText(s.type, s.data);
    texts[keyword] = text;
  }
  return texts;
}
