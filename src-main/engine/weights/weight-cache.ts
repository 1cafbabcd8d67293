import { existsSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { Checkpoint } from '../onnx/weights.ts';
import { DTYPE_BYTES, bf16ToFloat32, float16ToFloat32, float32ToFloat16, type DType } from './dtype.ts';
import { SafetensorsFile, elementCount, type TensorInfo } from './safetensors.ts';
import { cacheRootOf } from './cache-location.ts';
import { WeightError } from './weight-error.ts';

/**
 * The converted-weight cache (ARCHITECTURE.md "Runtime and weights"): a checkpoint stored in another
 * floating precision than the graphs compute in (the released bf16) is converted ONCE, tensor by tensor
 * in bounded chunks, into `<cache>/<component>-<dtype>/` and reused afterwards, where `<cache>` is
 * `<modelRoot>/.atelier-cache/` or, for a model folder Atelier does not manage, the folder the caller names
 * (cache-location.ts). Without it every session creation folds an in-graph Cast into a fresh host copy
 * (tech-notes.md §1.4). The folder appears complete or not at all (temp + rename);
 * its manifest records each source file's size and mtime, so a changed source is converted again.
 */

export type ComputeDType = 'float32' | 'float16';

export interface WeightCacheProgress {
  /** Bytes of the converted files written so far, of `totalBytes`. */
  readonly doneBytes: number;
  readonly totalBytes: number;
  /** The tensor being written; null at the start and the end. */
  readonly tensor: string | null;
}

/** Values an fp16 narrowing could not keep (§9.3.3): overflowed (clamped to ±65504) or flushed to zero. */
export interface NarrowingCounts {
  readonly tensor: string;
  readonly overflow: number;
  readonly underflow: number;
}

export interface WeightCacheOptions {
  /** The session root (the model folder). */
  readonly modelRoot: string;
  /** The folder for this model's caches (cache-location.ts); default `<modelRoot>/.atelier-cache/`. */
  readonly cacheDir?: string;
  /** Component name, e.g. `transformer`. */
  readonly component: string;
  readonly dtype: ComputeDType;
  readonly onProgress?: (p: WeightCacheProgress) => void;
  /** Free bytes on the volume holding `dir` (a seam for tests; default statfs). */
  readonly freeBytes?: (dir: string) => number;
}

export interface ComputeCheckpoint {
  readonly checkpoint: Checkpoint;
  /** `source`: nothing needed converting; `cached`: an earlier conversion was reused; `converted`: written now. */
  readonly origin: 'source' | 'cached' | 'converted';
  /** The cache folder; null for `source`. */
  readonly dir: string | null;
  /** Tensors that lost values when narrowed to fp16 (empty otherwise). */
  readonly narrowing: readonly NarrowingCounts[];
}

const MANIFEST = 'manifest.json';
const MANIFEST_FORMAT = 1;
const TARGET: Record<ComputeDType, DType> = { float32: 'F32', float16: 'F16' };
const FLOATING: ReadonlySet<DType> = new Set(['F64', 'F32', 'F16', 'BF16']);
/** Elements per read/convert/write round: bounds memory to ~48 MiB whatever the tensor size. */
const CHUNK_ELEMENTS = 1 << 22;

interface SourceStamp {
  file: string;
  bytes: number;
  mtimeMs: number;
}
interface Manifest {
  format: number;
  dtype: ComputeDType;
  sources: SourceStamp[];
  files: { file: string; bytes: number }[];
  narrowing: NarrowingCounts[];
}
interface ProgressState {
  doneBytes: number;
  readonly totalBytes: number;
  readonly report: (p: WeightCacheProgress) => void;
}
interface PlannedFile {
  source: SafetensorsFile;
  name: string;
  header: Uint8Array;
  tensors: { info: TensorInfo; dtype: DType; bytes: number }[];
  bytes: number;
}

/** `source` itself when every floating tensor is already in `dtype`; otherwise the (created or reused) converted copy. */
export async function checkpointForCompute(source: Checkpoint, o: WeightCacheOptions): Promise<ComputeCheckpoint> {
  const shards = source.files().map((f) => SafetensorsFile.open(f)); // validates every header: a truncated file fails here
  const target = TARGET[o.dtype];
  const needs = shards.some((s) => [...s.tensors.values()].some((t) => FLOATING.has(t.dtype) && t.dtype !== target));
  if (!needs) return { checkpoint: source, origin: 'source', dir: null, narrowing: [] };

  const cacheRoot = cacheRootOf(o.modelRoot, o.cacheDir);
  const dir = join(cacheRoot, `${o.component}-${o.dtype}`);
  const entry = basename(source.path);
  const baseDir = dirname(source.path);
  const stamps = [...(source.files().includes(source.path) ? [] : [source.path]), ...source.files()].map((f) =>
    stamp(baseDir, f),
  );
  const reused = readValidManifest(dir, o.dtype, stamps);
  if (reused)
    return { checkpoint: Checkpoint.open(join(dir, entry)), origin: 'cached', dir, narrowing: reused.narrowing };

  const plan = shards.map((s) => planFile(s, relative(baseDir, s.path), target));
  const totalBytes = plan.reduce((a, f) => a + f.bytes, 0);
  const free = (o.freeBytes ?? statfsFree)(nearestExisting(cacheRoot));
  if (free < totalBytes) {
    throw new WeightError(
      'disk-full',
      source.path,
      `not enough disk space to convert ${source.path} to ${o.dtype}: ${mib(totalBytes)} MiB needed in ${cacheRoot}, ${mib(free)} MiB free`,
    );
  }

  const tmp = join(cacheRoot, `.${o.component}-${o.dtype}.${process.pid}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  try {
    const progress: ProgressState = { doneBytes: 0, totalBytes, report: o.onProgress ?? (() => {}) };
    progress.report({ doneBytes: 0, totalBytes, tensor: null });
    const narrowing = await writeFolder(tmp, plan, progress);
    if (entry.endsWith('.index.json')) {
      await writeFile(
        join(tmp, entry),
        JSON.stringify({
          weight_map: Object.fromEntries(source.keys().map((k) => [k, relative(baseDir, source.info(k).file)])),
        }),
      );
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      dtype: o.dtype,
      sources: stamps,
      files: plan.map((f) => ({ file: f.name, bytes: f.bytes })),
      narrowing,
    };
    await writeFile(join(tmp, MANIFEST), JSON.stringify(manifest, null, 1)); // last: its presence marks a complete folder
    await rm(dir, { recursive: true, force: true }); // a stale conversion of an older source
    await rename(tmp, dir);
    progress.report({ doneBytes: totalBytes, totalBytes, tensor: null });
    return { checkpoint: Checkpoint.open(join(dir, entry)), origin: 'converted', dir, narrowing };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC')
      throw new WeightError(
        'disk-full',
        source.path,
        `the disk filled up while converting ${source.path} into ${cacheRoot}`,
        undefined,
        { cause: e },
      );
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function writeFolder(
  dir: string,
  plan: readonly PlannedFile[],
  progress: ProgressState,
): Promise<NarrowingCounts[]> {
  await mkdir(dir, { recursive: true });
  const narrowing: NarrowingCounts[] = [];
  for (const f of plan) narrowing.push(...(await writeConverted(f, join(dir, f.name), progress)));
  return narrowing;
}

function stamp(baseDir: string, file: string): SourceStamp {
  const s = statSync(file);
  return { file: relative(baseDir, file), bytes: s.size, mtimeMs: s.mtimeMs };
}

/** The manifest of a complete conversion of exactly these sources, or null (missing, other format, stale). */
function readValidManifest(dir: string, dtype: ComputeDType, stamps: readonly SourceStamp[]): Manifest | null {
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return null;
  }
  const same = (a: SourceStamp, b: SourceStamp | undefined) =>
    b !== undefined && a.file === b.file && a.bytes === b.bytes && a.mtimeMs === b.mtimeMs;
  if (
    m.format !== MANIFEST_FORMAT ||
    m.dtype !== dtype ||
    !Array.isArray(m.sources) ||
    m.sources.length !== stamps.length ||
    !stamps.every((s, i) => same(s, m.sources[i]))
  )
    return null;
  const complete = m.files.every((f) => existsSync(join(dir, f.file)) && statSync(join(dir, f.file)).size === f.bytes);
  return complete ? m : null;
}

/** The converted file's header and layout: same tensors in data order, floating ones in `target`. */
function planFile(source: SafetensorsFile, name: string, target: DType): PlannedFile {
  const infos = [...source.tensors.values()].sort((a, b) => a.dataOffset - b.dataOffset);
  const header: Record<string, unknown> = {};
  if (Object.keys(source.metadata).length > 0) header.__metadata__ = source.metadata;
  let offset = 0;
  const tensors = infos.map((info) => {
    const dtype = FLOATING.has(info.dtype) ? target : info.dtype;
    const bytes = elementCount(info.shape) * DTYPE_BYTES[dtype];
    header[info.name] = { dtype, shape: info.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
    return { info, dtype, bytes };
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // 8-byte aligned data, as safetensors-writer.ts does
  const body = Buffer.from(json, 'utf8');
  const headerBytes = new Uint8Array(8 + body.length);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(body.length), true);
  headerBytes.set(body, 8);
  return { source, name, header: headerBytes, tensors, bytes: headerBytes.length + offset };
}

async function writeConverted(f: PlannedFile, path: string, progress: ProgressState): Promise<NarrowingCounts[]> {
  await mkdir(dirname(path), { recursive: true });
  const narrowing: NarrowingCounts[] = [];
  const src = await open(f.source.path, 'r');
  const dst = await open(path, 'w');
  try {
    let at = 0;
    const write = async (bytes: Uint8Array, tensor: string | null) => {
      await dst.write(bytes, 0, bytes.length, at);
      at += bytes.length;
      progress.doneBytes += bytes.length;
      progress.report({ doneBytes: progress.doneBytes, totalBytes: progress.totalBytes, tensor });
    };
    await write(f.header, null);
    for (const t of f.tensors) {
      const counts = { overflow: 0, underflow: 0 };
      const n = elementCount(t.info.shape);
      const inBytes = DTYPE_BYTES[t.info.dtype];
      for (let done = 0; done < n; done += CHUNK_ELEMENTS) {
        const count = Math.min(CHUNK_ELEMENTS, n - done);
        const raw = await readExactly(src, t.info, done * inBytes, count * inBytes);
        await write(t.dtype === t.info.dtype ? raw : convertChunk(raw, t.info.dtype, t.dtype, counts), t.info.name);
      }
      if (counts.overflow > 0 || counts.underflow > 0) narrowing.push({ tensor: t.info.name, ...counts });
    }
    await dst.sync();
  } finally {
    await src.close();
    await dst.close();
  }
  return narrowing;
}

async function readExactly(fh: FileHandle, t: TensorInfo, from: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length); // fresh, so typed views over it are aligned
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

/** One chunk of a floating tensor from `from` to `to` (F32 or F16), counting what fp16 cannot hold. */
function convertChunk(
  raw: Uint8Array,
  from: DType,
  to: DType,
  counts: { overflow: number; underflow: number },
): Uint8Array {
  const n = raw.byteLength / DTYPE_BYTES[from];
  const wide =
    from === 'F32'
      ? new Float32Array(raw.buffer, 0, n)
      : from === 'BF16'
        ? bf16ToFloat32(new Uint16Array(raw.buffer, 0, n))
        : from === 'F16'
          ? float16ToFloat32(new Uint16Array(raw.buffer, 0, n))
          : Float32Array.from(new Float64Array(raw.buffer, 0, n));
  if (to === 'F32') return new Uint8Array(wide.buffer, wide.byteOffset, wide.byteLength);
  const half = float32ToFloat16(wide);
  for (let i = 0; i < n; i++) {
    const h = half[i]!;
    if ((h & 0x7fff) === 0x7c00 && Number.isFinite(wide[i]!)) {
      counts.overflow++;
      half[i] = (h & 0x8000) | 0x7bff; // ±65504: an infinite weight would turn every output it touches into NaN
    } else if ((h & 0x7fff) === 0 && wide[i] !== 0) {
      counts.underflow++;
    }
  }
  return new Uint8Array(half.buffer);
}

function statfsFree(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
