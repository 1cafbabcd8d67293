import { existsSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Checkpoint } from '../onnx/weights.ts';
import { DTYPE_BYTES, bf16ToFloat32, float16ToFloat32 } from './dtype.ts';
import { checkQuantLayout, packedRowBytes, quantBlocks, quantizeRows, type QuantLayout } from './quantize.ts';
import type { TensorInfo } from './safetensors.ts';
import { cacheRootOf } from './cache-location.ts';
import type { WeightCacheProgress } from './weight-cache.ts';
import { WeightError } from './weight-error.ts';

/**
 * The quantised-weight cache (issue 9): the linear weights a model selects are quantised ONCE (quantize.ts) into
 * `<cache>/<component>-int<bits>-b<blockSize>/quantized.safetensors` (cache-location.ts), next to the converted
 * cache of weight-cache.ts, with a manifest naming the sources (size, mtime), the layout, the quantised tensors
 * and each one's relative RMS error. Every other tensor still comes from the float checkpoint. Tensors stream in
 * row chunks (~16 MiB of fp32 at a time), the folder appears complete or not at all (temp + rename), and a changed
 * source, layout or selection is quantised again.
 */
export interface QuantCacheOptions {
  /** The session root. */
  readonly modelRoot: string;
  /** The folder for this model's caches (cache-location.ts); default `<modelRoot>/.atelier-cache/`. */
  readonly cacheDir?: string;
  readonly component: string;
  readonly layout: QuantLayout;
  /** Which tensors to quantise: the model's linear weights `[out, in]` worth it (never norms or embeddings). */
  readonly select: (key: string, shape: readonly number[]) => boolean;
  readonly onProgress?: (p: WeightCacheProgress) => void;
  /** Free bytes on the volume holding `dir` (a seam for tests; default statfs). */
  readonly freeBytes?: (dir: string) => number;
}

export interface QuantizedTensorStats {
  readonly key: string;
  readonly rows: number;
  readonly cols: number;
  /** ‖w − ŵ‖ / ‖w‖ over the tensor. */
  readonly relRmsError: number;
  /** Bytes as stored in the source, and as codes + scales. */
  readonly sourceBytes: number;
  readonly quantizedBytes: number;
}

export interface QuantizedCheckpoint {
  /** Holds `<key>.packed` (U8 `[rows, blocks, blockSize·bits/8]`) and `<key>.scales` (F32 `[rows, blocks]`). */
  readonly checkpoint: Checkpoint;
  readonly origin: 'cached' | 'quantized';
  readonly dir: string;
  readonly tensors: readonly QuantizedTensorStats[];
}

const FILE = 'quantized.safetensors';
const MANIFEST = 'manifest.json';
const MANIFEST_FORMAT = 1;
const CHUNK_ELEMENTS = 1 << 22;

interface SourceStamp {
  file: string;
  bytes: number;
  mtimeMs: number;
}
interface Manifest {
  format: number;
  bits: number;
  blockSize: number;
  sources: SourceStamp[];
  bytes: number;
  tensors: QuantizedTensorStats[];
}
interface Planned {
  info: TensorInfo;
  rows: number;
  cols: number;
  packedAt: number;
  scalesAt: number;
}

export async function quantizedCheckpointFor(source: Checkpoint, o: QuantCacheOptions): Promise<QuantizedCheckpoint> {
  checkQuantLayout(o.layout);
  const dir = join(cacheRootOf(o.modelRoot, o.cacheDir), `${o.component}-int${o.layout.bits}-b${o.layout.blockSize}`);
  const selected = source
    .keys()
    .sort()
    .map((k) => source.info(k))
    .filter((t) => t.shape.length === 2 && o.select(t.name, t.shape));
  const stamps = source.files().map((f) => {
    const s = statSync(f);
    return { file: relative(o.modelRoot, f), bytes: s.size, mtimeMs: s.mtimeMs };
  });
  const reused = readManifest(
    dir,
    o.layout,
    stamps,
    selected.map((t) => t.name),
  );
  if (reused) return { checkpoint: Checkpoint.open(join(dir, FILE)), origin: 'cached', dir, tensors: reused.tensors };

  const { header, planned, bytes } = plan(selected, o.layout);
  const free = (o.freeBytes ?? statfsFree)(existingParent(dir));
  if (free < bytes)
    throw new WeightError(
      'disk-full',
      source.path,
      `not enough disk space to quantise ${source.path}: ${mib(bytes)} MiB needed in ${dirname(dir)}, ${mib(free)} MiB free`,
    );

  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(tmp, { recursive: true });
    const report = o.onProgress ?? (() => {});
    const out = await open(join(tmp, FILE), 'w');
    const tensors: QuantizedTensorStats[] = [];
    try {
      await out.write(header, 0, header.length, 0);
      let done = header.length;
      report({ doneBytes: done, totalBytes: bytes, tensor: null });
      for (const p of planned) {
        tensors.push(
          await quantizeTensor(p, o.layout, out, (n) => {
            done += n;
            report({ doneBytes: done, totalBytes: bytes, tensor: p.info.name });
          }),
        );
      }
      await out.sync();
    } finally {
      await out.close();
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      bits: o.layout.bits,
      blockSize: o.layout.blockSize,
      sources: stamps,
      bytes,
      tensors,
    };
    await writeFile(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1));
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    report({ doneBytes: bytes, totalBytes: bytes, tensor: null });
    return { checkpoint: Checkpoint.open(join(dir, FILE)), origin: 'quantized', dir, tensors };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The manifest of a complete quantisation of exactly these sources, layout and tensors, or null. */
function readManifest(
  dir: string,
  layout: QuantLayout,
  stamps: readonly SourceStamp[],
  keys: readonly string[],
): Manifest | null {
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return null;
  }
  const sameStamp = (a: SourceStamp, i: number) =>
    a.file === m.sources[i]?.file && a.bytes === m.sources[i]?.bytes && a.mtimeMs === m.sources[i]?.mtimeMs;
  const ok =
    m.format === MANIFEST_FORMAT &&
    m.bits === layout.bits &&
    m.blockSize === layout.blockSize &&
    m.sources?.length === stamps.length &&
    stamps.every(sameStamp) &&
    m.tensors?.length === keys.length &&
    keys.every((k, i) => m.tensors[i]?.key === k) &&
    existsSync(join(dir, FILE)) &&
    statSync(join(dir, FILE)).size === m.bytes;
  return ok ? m : null;
}

/** Header and data layout: per tensor `<key>.packed` then `<key>.scales`, 8-byte aligned data (safetensors-writer.ts). */
function plan(
  selected: readonly TensorInfo[],
  layout: QuantLayout,
): { header: Uint8Array; planned: Planned[]; bytes: number } {
  const header: Record<string, unknown> = {
    __metadata__: { format: 'atelier-matmulnbits', bits: String(layout.bits), block_size: String(layout.blockSize) },
  };
  let offset = 0;
  const layoutOf = selected.map((info) => {
    const [rows, cols] = info.shape as [number, number];
    const blocks = quantBlocks(cols, layout.blockSize);
    const packedBytes = rows * packedRowBytes(cols, layout);
    header[`${info.name}.packed`] = {
      dtype: 'U8',
      shape: [rows, blocks, (layout.blockSize * layout.bits) / 8],
      data_offsets: [offset, offset + packedBytes],
    };
    const packedAt = offset;
    offset += packedBytes;
    header[`${info.name}.scales`] = {
      dtype: 'F32',
      shape: [rows, blocks],
      data_offsets: [offset, offset + rows * blocks * 4],
    };
    const scalesAt = offset;
    offset += rows * blocks * 4;
    return { info, rows, cols, packedAt, scalesAt };
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const bytes = new Uint8Array(8 + body.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(body.length), true);
  bytes.set(body, 8);
  const planned = layoutOf.map((p) => ({
    ...p,
    packedAt: p.packedAt + bytes.length,
    scalesAt: p.scalesAt + bytes.length,
  }));
  return { header: bytes, planned, bytes: bytes.length + offset };
}

async function quantizeTensor(
  p: Planned,
  layout: QuantLayout,
  out: FileHandle,
  wrote: (bytes: number) => void,
): Promise<QuantizedTensorStats> {
  const { info, rows, cols } = p;
  const inBytes = DTYPE_BYTES[info.dtype];
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / cols));
  const rowBytes = packedRowBytes(cols, layout);
  const blocks = quantBlocks(cols, layout.blockSize);
  let sqError = 0,
    sqNorm = 0;
  const src = await open(info.file, 'r');
  try {
    for (let r = 0; r < rows; r += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, rows - r);
      const raw = await readExactly(src, info, r * cols * inBytes, n * cols * inBytes);
      const q = quantizeRows(toFloat32(raw, info), n, cols, layout);
      sqError += q.sqError;
      sqNorm += q.sqNorm;
      await out.write(q.packed, 0, q.packed.length, p.packedAt + r * rowBytes);
      await out.write(new Uint8Array(q.scales.buffer), 0, q.scales.byteLength, p.scalesAt + r * blocks * 4);
      wrote(q.packed.length + q.scales.byteLength);
    }
  } finally {
    await src.close();
  }
  return {
    key: info.name,
    rows,
    cols,
    relRmsError: sqNorm === 0 ? 0 : Math.sqrt(sqError / sqNorm),
    sourceBytes: info.byteLength,
    quantizedBytes: rows * (rowBytes + blocks * 4),
  };
}

function toFloat32(raw: Uint8Array, info: TensorInfo): Float32Array {
  const n = raw.byteLength / DTYPE_BYTES[info.dtype];
  switch (info.dtype) {
    case 'F32':
      return new Float32Array(raw.buffer, raw.byteOffset, n);
    case 'BF16':
      return bf16ToFloat32(new Uint16Array(raw.buffer, raw.byteOffset, n));
    case 'F16':
      return float16ToFloat32(new Uint16Array(raw.buffer, raw.byteOffset, n));
    case 'F64':
      return Float32Array.from(new Float64Array(raw.buffer, raw.byteOffset, n));
    default:
      throw new WeightError(
        'wrong-dtype',
        info.file,
        `tensor "${info.name}" in ${info.file} is ${info.dtype}; only floating weights can be quantised`,
        info.name,
      );
  }
}

async function readExactly(fh: FileHandle, t: TensorInfo, from: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const { bytesRead } = await fh.read(buf, done, length - done, t.dataOffset + from + done);
    if (bytesRead === 0)
      throw new WeightError(
        'truncated',
        t.file,
        `${t.file} ended while reading tensor "${t.name}" (at byte ${t.dataOffset + from + done})`,
        t.name,
      );
    done += bytesRead;
  }
  return buf;
}

function statfsFree(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function existingParent(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
