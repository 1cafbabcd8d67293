/**
 * Blockwise symmetric weight quantisation in com.microsoft.MatMulNBits' layout (onnxruntime contrib ops): a
 * `[rows, cols]` weight (rows = out features, cols = in features = K) is cut along K into blocks of `blockSize`;
 * each block has one scale and codes q ∈ [0, 2^bits) that dequantise as (q − 2^(bits−1))·scale, the op's default
 * zero point. 4-bit codes are packed two per byte, the first in the low nibble; a last partial block is padded
 * with the zero code. Shapes: packed `[rows, blocks, blockSize·bits/8]`, scales `[rows, blocks]`.
 *
 * The scale follows MLAS's symmetric rule: the block's value of largest magnitude m maps to code −2^(bits−1)
 * exactly (scale = m / −2^(bits−1), negative when m is positive), so the code range is used in full; a value of
 * the other sign near |m| clamps to 2^(bits−1)−1 (error up to one step instead of half).
 */
export interface QuantLayout {
  readonly bits: 4 | 8;
  readonly blockSize: number;
}

export interface QuantizedRows {
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
}

export function quantBlocks(cols: number, blockSize: number): number {
  return Math.ceil(cols / blockSize);
}

/** Bytes of one quantised row (codes only). */
export function packedRowBytes(cols: number, q: QuantLayout): number {
  return (quantBlocks(cols, q.blockSize) * q.blockSize * q.bits) / 8;
}

export function checkQuantLayout(q: QuantLayout): void {
  if (q.bits !== 4 && q.bits !== 8) throw new RangeError(`quantisation bits must be 4 or 8, got ${q.bits}`);
  if (!Number.isInteger(Math.log2(q.blockSize)) || q.blockSize < 16)
    throw new RangeError(`quantisation block size must be a power of two ≥ 16, got ${q.blockSize}`);
}

/**
 * Quantises `rows` rows of `cols` values (row-major `w`). Also returns Σ(w − ŵ)² and Σw² so a caller streaming a
 * tensor in chunks can report its relative RMS error.
 */
export function quantizeRows(
  w: Float32Array,
  rows: number,
  cols: number,
  q: QuantLayout,
): QuantizedRows & { sqError: number; sqNorm: number } {
  checkQuantLayout(q);
  if (w.length !== rows * cols) throw new RangeError(`quantizeRows: ${w.length} values do not fill [${rows}, ${cols}]`);
  const blocks = quantBlocks(cols, q.blockSize);
  const rowBytes = packedRowBytes(cols, q);
  const zero = 1 << (q.bits - 1);
  const packed = new Uint8Array(rows * rowBytes);
  const scales = new Float32Array(rows * blocks);
  let sqError = 0,
    sqNorm = 0;
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const start = r * cols + b * q.blockSize;
      const end = r * cols + Math.min((b + 1) * q.blockSize, cols);
      let m = 0;
      for (let i = start; i < end; i++) if (Math.abs(w[i]!) > Math.abs(m)) m = w[i]!;
      const scale = m === 0 ? 0 : Math.fround(m / -zero);
      scales[r * blocks + b] = scale;
      const inv = scale === 0 ? 0 : 1 / scale;
      const blockByte = r * rowBytes + (b * q.blockSize * q.bits) / 8;
      for (let i = 0; i < q.blockSize; i++) {
        const at = start + i;
        const v = at < end ? w[at]! : 0;
        const code = Math.min(Math.max(Math.round(v * inv), -zero), zero - 1) + zero;
        if (at < end) {
          sqError += (v - (code - zero) * scale) ** 2;
          sqNorm += v * v;
        }
        if (q.bits === 8) packed[blockByte + i] = code;
        else packed[blockByte + (i >> 1)] = packed[blockByte + (i >> 1)]! | (i & 1 ? code << 4 : code);
      }
    }
  }
  return { packed, scales, sqError, sqNorm };
}

/** The fp32 weight `[rows, cols]` that quantised rows stand for (tests and error figures). */
export function dequantizeRows(qr: QuantizedRows, rows: number, cols: number, q: QuantLayout): Float32Array {
  const blocks = quantBlocks(cols, q.blockSize);
  const rowBytes = packedRowBytes(cols, q);
  const zero = 1 << (q.bits - 1);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const b = Math.floor(c / q.blockSize),
        i = c % q.blockSize;
      const byte = qr.packed[r * rowBytes + (b * q.blockSize * q.bits) / 8 + (q.bits === 8 ? i : i >> 1)]!;
      const code = q.bits === 8 ? byte : i & 1 ? byte >> 4 : byte & 0xf;
      out[r * cols + c] = (code - zero) * qr.scales[r * blocks + b]!;
    }
  }
  return out;
}
