import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DTYPE_BYTES, isDType, type DType, bf16ToFloat32, float16ToFloat32 } from './dtype.ts';
import { WeightError } from './weight-error.ts';

/** One tensor's place in a file: `dataOffset` is the absolute byte offset in `file` (what ONNX external data needs). */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly file: string;
  readonly dataOffset: number;
  readonly byteLength: number;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * A `.safetensors` file: 8-byte little-endian header length, a JSON header, then raw data.
 * The header is validated completely on open so a damaged download is caught before any graph is built.
 */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new WeightError('not-found', path, `cannot open weights file ${path}: ${(e as Error).message}`, undefined, {
        cause: e,
      });
    }
    try {
      const size = fstatSync(fd).size;
      if (size < 8)
        throw new WeightError(
          'truncated',
          path,
          `${path} is truncated: ${size} bytes, shorter than the 8-byte header length`,
        );
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER_BYTES)
        throw new WeightError(
          'bad-header',
          path,
          `${path} is not a safetensors file (header length ${headerLen} is implausible)`,
        );
      if (8 + headerLen > size)
        throw new WeightError(
          'truncated',
          path,
          `${path} is truncated: header needs ${8 + headerLen} bytes, file has ${size}`,
        );
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      return SafetensorsFile.fromHeader(path, headerBuf, size);
    } finally {
      closeSync(fd);
    }
  }

  private static fromHeader(path: string, headerBuf: Buffer, fileSize: number): SafetensorsFile {
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch (e) {
      throw new WeightError(
        'bad-header',
        path,
        `${path} has a corrupt header (not valid JSON): ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) {
      throw new WeightError('bad-header', path, `${path} has a corrupt header (not a JSON object)`);
    }
    const dataStart = 8 + headerBuf.length;
    const dataLen = fileSize - dataStart;
    const tensors = new Map<string, TensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (entry ?? {}) as Record<string, string>;
        continue;
      }
      tensors.set(name, parseEntry(path, name, entry, dataStart, dataLen));
    }
    checkNoOverlap(path, [...tensors.values()], dataStart);
    return new SafetensorsFile(path, tensors, metadata);
  }

  get(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new WeightError('missing-tensor', this.path, `tensor "${name}" is missing from ${this.path}`, name);
    return t;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** Raw bytes of one tensor. */
  readBytes(name: string): Buffer {
    return readTensorBytes(this.get(name));
  }

  /** A floating tensor widened to fp32 (F32, F16 and BF16 are accepted). */
  readFloat32(name: string): Float32Array {
    return tensorToFloat32(this.get(name));
  }

  /** An integer tensor as int64 values (I64, I32, U8, I8, BOOL accepted). */
  readBigInt64(name: string): BigInt64Array {
    const t = this.get(name);
    const b = readTensorBytes(t);
    if (t.dtype === 'I64') return new BigInt64Array(b.buffer, b.byteOffset, b.byteLength / 8);
    const n = elementCount(t.shape);
    const out = new BigInt64Array(n);
    const view =
      t.dtype === 'I32'
        ? new Int32Array(b.buffer, b.byteOffset, n)
        : t.dtype === 'I8'
          ? new Int8Array(b.buffer, b.byteOffset, n)
          : t.dtype === 'U8' || t.dtype === 'BOOL'
            ? new Uint8Array(b.buffer, b.byteOffset, n)
            : null;
    if (!view)
      throw new WeightError(
        'wrong-dtype',
        t.file,
        `tensor "${name}" in ${t.file} is ${t.dtype}, expected an integer type`,
        name,
      );
    for (let i = 0; i < n; i++) out[i] = BigInt(view[i]!);
    return out;
  }
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function readTensorBytes(t: TensorInfo): Buffer {
  const buf = Buffer.alloc(t.byteLength);
  const fd = openSync(t.file, 'r');
  try {
    let done = 0;
    while (done < t.byteLength) {
      const n = readSync(fd, buf, done, t.byteLength - done, t.dataOffset + done);
      if (n === 0)
        throw new WeightError('truncated', t.file, `${t.file} ended while reading tensor "${t.name}"`, t.name);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

export function tensorToFloat32(t: TensorInfo): Float32Array {
  const b = readTensorBytes(t);
  const n = elementCount(t.shape);
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(b.buffer, b.byteOffset, n);
    case 'F16':
      return float16ToFloat32(new Uint16Array(b.buffer, b.byteOffset, n));
    case 'BF16':
      return bf16ToFloat32(new Uint16Array(b.buffer, b.byteOffset, n));
    case 'F64':
      return Float32Array.from(new Float64Array(b.buffer, b.byteOffset, n));
    default:
      throw new WeightError(
        'wrong-dtype',
        t.file,
        `tensor "${t.name}" in ${t.file} is ${t.dtype}, expected a floating type`,
        t.name,
      );
  }
}

function parseEntry(path: string, name: string, entry: unknown, dataStart: number, dataLen: number): TensorInfo {
  const bad = (why: string) =>
    new WeightError('bad-header', path, `${path}: tensor "${name}" has a corrupt header entry (${why})`, name);
  if (typeof entry !== 'object' || entry === null) throw bad('not an object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad('no dtype');
  if (!isDType(dtype))
    throw new WeightError('unknown-dtype', path, `${path}: tensor "${name}" has unsupported dtype ${dtype}`, name);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw bad('shape is not a list of sizes');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
    throw bad('data_offsets is not [begin, end]');
  const [begin, end] = offsets as [number, number];
  if (end < begin || end > dataLen) {
    const why =
      end > dataLen
        ? `data ends at byte ${dataStart + end} but the file has ${dataStart + dataLen}`
        : 'end before begin';
    throw new WeightError(
      end > dataLen ? 'truncated' : 'bad-offsets',
      path,
      `${path}: tensor "${name}" is out of range (${why})`,
      name,
    );
  }
  const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
  if (end - begin !== expected)
    throw new WeightError(
      'bad-offsets',
      path,
      `${path}: tensor "${name}" holds ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${expected}`,
      name,
    );
  return { name, dtype, shape: shape as number[], file: path, dataOffset: dataStart + begin, byteLength: end - begin };
}

function checkNoOverlap(path: string, infos: TensorInfo[], dataStart: number): void {
  const sorted = infos.filter((t) => t.byteLength > 0).sort((a, b) => a.dataOffset - b.dataOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.dataOffset < prev.dataOffset + prev.byteLength) {
      throw new WeightError(
        'bad-offsets',
        path,
        `${path}: tensors "${prev.name}" and "${cur.name}" overlap at byte ${cur.dataOffset - dataStart} of the data section`,
        cur.name,
      );
    }
  }
}
