import { closeSync, openSync, readSync } from 'node:fs';
import { DTYPE_BYTES, bf16ToFloat32, float16ToFloat32 } from '../../weights/dtype.ts';
import type { TensorInfo } from '../../weights/safetensors.ts';
import { WeightError } from '../../weights/weight-error.ts';

/**
 * `model.embed_tokens.weight` read row by row straight from its safetensors file. The lookup runs on the host
 * (a few rows per call) so the text graph can take `inputs_embeds` with image embeddings spliced in, and no
 * session has to hold a widened copy of the table just for a Gather (151936 × 2048 in the 3B model).
 */
export class EmbeddingTable {
  private readonly rowBytes: number;

  constructor(
    private readonly info: TensorInfo,
    readonly vocabSize: number,
    readonly hiddenSize: number,
  ) {
    if (info.shape.length !== 2 || info.shape[0] !== vocabSize || info.shape[1] !== hiddenSize) {
      throw new WeightError(
        'wrong-shape',
        info.file,
        `tensor "${info.name}" in ${info.file} has shape [${info.shape.join(', ')}] but the model config expects [${vocabSize}, ${hiddenSize}]`,
        info.name,
      );
    }
    if (info.dtype !== 'F32' && info.dtype !== 'BF16' && info.dtype !== 'F16') {
      throw new WeightError(
        'wrong-dtype',
        info.file,
        `tensor "${info.name}" in ${info.file} is ${info.dtype}, expected F32, BF16 or F16`,
        info.name,
      );
    }
    this.rowBytes = hiddenSize * DTYPE_BYTES[info.dtype];
  }

  /** Rows of `ids`, widened to fp32: `[ids.length, hidden]`. */
  lookup(ids: ArrayLike<number>): Float32Array {
    const D = this.hiddenSize;
    const out = new Float32Array(ids.length * D);
    const row = Buffer.alloc(this.rowBytes);
    const fd = openSync(this.info.file, 'r');
    try {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
          throw new RangeError(`token id ${id} is outside the vocabulary (0 … ${this.vocabSize - 1})`);
        const n = readSync(fd, row, 0, this.rowBytes, this.info.dataOffset + id * this.rowBytes);
        if (n !== this.rowBytes)
          throw new WeightError(
            'truncated',
            this.info.file,
            `${this.info.file} ended while reading embedding row ${id}`,
            this.info.name,
          );
        this.widen(row, out.subarray(i * D, (i + 1) * D));
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  private widen(row: Buffer, dst: Float32Array<ArrayBuffer>): void {
    const bytes = new Uint8Array(row.buffer, row.byteOffset, row.byteLength).slice();
    if (this.info.dtype === 'F32') dst.set(new Float32Array(bytes.buffer));
    else if (this.info.dtype === 'BF16') bf16ToFloat32(new Uint16Array(bytes.buffer), dst);
    else float16ToFloat32(new Uint16Array(bytes.buffer), dst);
  }
}
