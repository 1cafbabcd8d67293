/*
 * The .atelier file: one self-contained file per project, designed so that damage is detected and named.
 *
 * Layout (integers little-endian):
 *
 *   offset      bytes   field
 *   0           12      magic 89 41 54 45 4C 49 45 52 0D 0A 1A 0A ("\x89ATELIER\r\n\x1a\n"). As in PNG, the high
 *                       byte and the CR LF pair expose 7-bit transfers and line-ending conversion.
 *   12          4       formatVersion (u32). At this offset in every version, so a newer file is recognised as
 *                       such ('from-future') even when the rest of its layout changed.
 *   16          4       manifestBytes M (u32)
 *   20          4       imageCount N (u32)
 *   24          8       fileBytes (u64): the length of the whole file, so a cut-off file is reported as truncated.
 *   32          M       manifest: UTF-8 JSON of a ProjectDocument (contract.ts, projects section), which refers
 *                       to images by sha256 only.
 *   32+M        40·N    image table, sorted by hash: sha256 (32 raw bytes), byteLength (u64).
 *   32+M+40N    32      index checksum: sha256 of every byte before it (header, manifest, table).
 *   64+M+40N    …       image bytes, concatenated in table order. Each image is stored once, and its bytes
 *                       must hash to its table entry (the content address doubles as its checksum).
 *
 * Reading checks, in order: signature, version, length (truncation), index checksum, manifest JSON and schema,
 * each image's hash, then that every image the manifest requires is present.
 */
import { createHash } from 'node:crypto';
import type { ImageHash, ProjectDocument } from '../../ipc/contract.ts';
import { ProjectError } from './project-errors.ts';
import { migrateManifest } from './project-migrations.ts';
import { checkProjectDocument, imageRefs } from './project-schema.ts';
import { SchemaError } from './schema-checks.ts';

export const FORMAT_VERSION = 2;
export const PROJECT_EXTENSION = '.atelier';

const MAGIC = Uint8Array.of(0x89, 0x41, 0x54, 0x45, 0x4c, 0x49, 0x45, 0x52, 0x0d, 0x0a, 0x1a, 0x0a);
const HEADER_BYTES = 32;
const ENTRY_BYTES = 40;
const CHECKSUM_BYTES = 32;

export interface DecodedProject {
  formatVersion: number;
  document: ProjectDocument;
  /** Views into the file's bytes, by sha256 hex. */
  images: Map<ImageHash, Uint8Array>;
}

export const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();
export const sha256Hex = (bytes: Uint8Array): ImageHash => sha256(bytes).toString('hex');

/** The file as chunks (index first, then each image), so large images are written without being copied. */
export function encodeProject(
  document: ProjectDocument,
  images: ReadonlyMap<ImageHash, Uint8Array>,
): { chunks: Uint8Array[]; sizeBytes: number } {
  const manifest = Buffer.from(JSON.stringify(document), 'utf8');
  const hashes = [...images.keys()].sort();
  const indexBytes = HEADER_BYTES + manifest.byteLength + ENTRY_BYTES * hashes.length + CHECKSUM_BYTES;
  const sizeBytes = hashes.reduce((n, h) => n + images.get(h)!.byteLength, indexBytes);
  const index = Buffer.alloc(indexBytes);
  index.set(MAGIC, 0);
  index.writeUInt32LE(FORMAT_VERSION, 12);
  index.writeUInt32LE(manifest.byteLength, 16);
  index.writeUInt32LE(hashes.length, 20);
  index.writeBigUInt64LE(BigInt(sizeBytes), 24);
  manifest.copy(index, HEADER_BYTES);
  let at = HEADER_BYTES + manifest.byteLength;
  for (const h of hashes) {
    index.write(h, at, 'hex');
    index.writeBigUInt64LE(BigInt(images.get(h)!.byteLength), at + 32);
    at += ENTRY_BYTES;
  }
  sha256(index.subarray(0, at)).copy(index, at);
  return { chunks: [index, ...hashes.map((h) => images.get(h)!)], sizeBytes };
}

type DamageReason =
  'truncated' | 'trailing-data' | 'bad-header' | 'checksum-mismatch' | 'bad-manifest' | 'missing-image';
type Damage = (reason: DamageReason, what: string, facts?: Record<string, string | number>) => ProjectError;

/** Parses and verifies a whole file; throws ProjectError naming what is wrong and where. `source` names it in messages. */
export function decodeProject(bytes: Uint8Array, source: string): DecodedProject {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged: Damage = (reason, what, facts = {}) =>
    new ProjectError('corrupt-file', reason, `${source} is damaged: ${what}`, { path: source, ...facts });
  const { formatVersion, manifestBytes, imageCount } = readHeader(buf, source, damaged);

  const tableAt = HEADER_BYTES + manifestBytes;
  const checksumAt = tableAt + ENTRY_BYTES * imageCount;
  if (checksumAt + CHECKSUM_BYTES > buf.length)
    throw damaged(
      'bad-header',
      `its header describes ${checksumAt + CHECKSUM_BYTES} bytes of index in a ${buf.length}-byte file`,
    );
  if (!sha256(buf.subarray(0, checksumAt)).equals(buf.subarray(checksumAt, checksumAt + CHECKSUM_BYTES))) {
    throw damaged(
      'checksum-mismatch',
      `the header, manifest or image table (bytes 0-${checksumAt - 1}) changed after it was written`,
      { part: 'index' },
    );
  }
  const images = readImages(buf, tableAt, imageCount, checksumAt + CHECKSUM_BYTES, damaged);

  let document: ProjectDocument;
  try {
    document = checkProjectDocument(
      migrateManifest(JSON.parse(buf.toString('utf8', HEADER_BYTES, tableAt)), formatVersion, FORMAT_VERSION),
      'manifest',
    );
  } catch (e) {
    if (e instanceof SyntaxError || e instanceof SchemaError)
      throw damaged('bad-manifest', e.message, { part: 'manifest' });
    throw e;
  }
  const missing = imageRefs(document).required.find((h) => !images.has(h));
  if (missing !== undefined)
    throw damaged('missing-image', `image ${missing} is used by the project but not stored in the file`, {
      image: missing,
    });
  return { formatVersion, document, images };
}

/** Signature, version (before anything whose layout a newer version may have changed), then the length. */
function readHeader(
  buf: Buffer,
  source: string,
  damaged: Damage,
): { formatVersion: number; manifestBytes: number; imageCount: number } {
  if (buf.length === 0) throw damaged('truncated', 'the file is empty');
  const magicSeen = buf.subarray(0, MAGIC.length);
  if (!MAGIC.subarray(0, magicSeen.length).every((b, i) => b === magicSeen[i])) {
    throw new ProjectError(
      'corrupt-file',
      'not-a-project',
      `${source} is not an Atelier project (no .atelier signature)`,
      { path: source },
    );
  }
  const cutInHeader = () =>
    damaged('truncated', `it ends at byte ${buf.length}, inside the ${HEADER_BYTES}-byte header`);
  if (buf.length < 16) throw cutInHeader();
  const formatVersion = buf.readUInt32LE(12);
  if (formatVersion > FORMAT_VERSION) {
    throw new ProjectError(
      'from-future',
      'newer-format',
      `${source} was saved by a newer Atelier (project format ${formatVersion}); this version reads format ${FORMAT_VERSION} and older`,
      { path: source, fileVersion: formatVersion, supportedVersion: FORMAT_VERSION },
    );
  }
  if (formatVersion < 1) throw damaged('bad-header', `format version ${formatVersion} does not exist`);
  if (buf.length < HEADER_BYTES) throw cutInHeader();
  const declared = buf.readBigUInt64LE(24);
  if (declared > BigInt(buf.length))
    throw damaged('truncated', `it has ${buf.length} bytes but was written with ${declared}; the end is missing`);
  if (declared < BigInt(buf.length))
    throw damaged('trailing-data', `it has ${buf.length} bytes but was written with ${declared}`);
  return { formatVersion, manifestBytes: buf.readUInt32LE(16), imageCount: buf.readUInt32LE(20) };
}

function readImages(
  buf: Buffer,
  tableAt: number,
  count: number,
  dataAt: number,
  damaged: Damage,
): Map<ImageHash, Uint8Array> {
  const images = new Map<ImageHash, Uint8Array>();
  let at = dataAt;
  for (let i = 0; i < count; i++) {
    const entry = tableAt + i * ENTRY_BYTES;
    const hash = buf.toString('hex', entry, entry + 32);
    const length = buf.readBigUInt64LE(entry + 32);
    if (length > BigInt(buf.length - at))
      throw damaged('bad-header', `image ${hash} claims ${length} bytes at byte ${at}, past the end of the file`);
    const image = buf.subarray(at, at + Number(length));
    if (sha256Hex(image) !== hash)
      throw damaged(
        'checksum-mismatch',
        `image ${hash} (bytes ${at}-${at + image.length - 1}) does not match its checksum`,
        { part: 'image', image: hash },
      );
    images.set(hash, image);
    at += image.length;
  }
  if (at !== buf.length) throw damaged('bad-header', `its images end at byte ${at}, but the file has ${buf.length}`);
  return images;
}
