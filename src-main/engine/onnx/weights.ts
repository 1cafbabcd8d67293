import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { DType } from '../weights/dtype.ts';
import { SafetensorsFile, type TensorInfo } from '../weights/safetensors.ts';
import { WeightError } from '../weights/weight-error.ts';
import type { Value } from './graph-core.ts';
import type { QuantizedLinearWeights } from './graph-precision.ts';
import type { Graph, LinearWeights } from './graph.ts';
import type { ElemType } from './onnx-proto.ts';
import type { QuantSpec } from './precision.ts';

const ELEM_OF_DTYPE: Record<DType, ElemType> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/**
 * The tensors of one model component: a single `.safetensors` file, or the shards listed by a
 * `*.safetensors.index.json` (`{ "weight_map": { key: "shard file" } }`, the hub convention).
 * Shards are opened lazily, so a lookup only reads the headers it needs.
 */
export class Checkpoint {
  private readonly shards = new Map<string, SafetensorsFile>();

  private constructor(
    /** The file users know this component by (the index, or the single weights file); named in errors. */
    readonly path: string,
    private readonly weightMap: ReadonlyMap<string, string> | null,
  ) {}

  /**
   * Opens `path`: a `.safetensors` file, a `.safetensors.index.json`, or a component folder with
   * `<baseName>.safetensors.index.json` or `<baseName>.safetensors` (the index wins).
   */
  static open(path: string, baseName?: string): Checkpoint {
    const abs = resolve(path);
    if (existsSync(abs) && statSync(abs).isDirectory()) {
      if (!baseName)
        throw new WeightError(
          'not-found',
          abs,
          `${abs} is a folder: name the weights file (e.g. "diffusion_pytorch_model")`,
        );
      const index = join(abs, `${baseName}.safetensors.index.json`);
      return Checkpoint.open(existsSync(index) ? index : join(abs, `${baseName}.safetensors`));
    }
    if (abs.endsWith('.index.json')) return Checkpoint.fromIndex(abs);
    const file = SafetensorsFile.open(abs);
    const ckpt = new Checkpoint(abs, null);
    ckpt.shards.set(abs, file);
    return ckpt;
  }

  private static fromIndex(indexPath: string): Checkpoint {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not-found' : 'bad-index';
      throw new WeightError(
        code,
        indexPath,
        `cannot read shard index ${indexPath}: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
    if (
      typeof map !== 'object' ||
      map === null ||
      Object.values(map).some((f) => typeof f !== 'string' || f.includes('..'))
    ) {
      throw new WeightError(
        'bad-index',
        indexPath,
        `${indexPath} has no valid "weight_map" of tensor name → shard file in the same folder`,
      );
    }
    const dir = dirname(indexPath);
    return new Checkpoint(
      indexPath,
      new Map(Object.entries(map as Record<string, string>).map(([k, f]) => [k, join(dir, f)])),
    );
  }

  /** Where `key` lives; throws WeightError('missing-tensor') naming the tensor and the file searched. */
  info(key: string): TensorInfo {
    const file = this.fileOf(key);
    if (file === null)
      throw new WeightError('missing-tensor', this.path, `tensor "${key}" is missing from ${this.path}`, key);
    return this.shard(file).get(key);
  }

  has(key: string): boolean {
    const file = this.fileOf(key);
    return file !== null && this.shard(file).has(key);
  }

  /** Every tensor name (for diagnostics and tests). */
  keys(): string[] {
    if (this.weightMap) return [...this.weightMap.keys()];
    return [...this.shard(this.path).tensors.keys()];
  }

  /** The weights files this checkpoint reads: the single file, or every shard the index names. */
  files(): string[] {
    return this.weightMap ? [...new Set(this.weightMap.values())] : [this.path];
  }

  private fileOf(key: string): string | null {
    if (this.weightMap) return this.weightMap.get(key) ?? null;
    return this.shard(this.path).has(key) ? this.path : null;
  }

  private shard(file: string): SafetensorsFile {
    let f = this.shards.get(file);
    if (!f) {
      f = SafetensorsFile.open(file);
      this.shards.set(file, f);
    }
    return f;
  }
}

export interface WeightsOptions {
  /** Folder the session resolves external data against; every weights file must lie inside it. */
  root: string;
  /**
   * Floating type the graph computes in; stored tensors of another floating type are Cast in-graph. Default: the
   * graph precision's type for values outside linears (fp32 unless fp16-pure; fp32 under fp16 emulation).
   */
  computeType?: 'float32' | 'float16';
  /**
   * Blockwise-quantised linear weights (weights/quant-cache.ts: `<key>.packed`, `<key>.scales` for each quantised
   * `<key>` = `<prefix>.weight`). `linear()` returns these for every weight the checkpoint holds.
   */
  quantized?: { readonly checkpoint: Checkpoint; readonly spec: QuantSpec };
}

/**
 * A graph's view of a checkpoint: `tensor(key, shape)` adds the tensor as an external initializer
 * (ONNX external data pointing straight into the safetensors file) after checking its shape.
 * Keys are the checkpoint's own names; `scope(prefix)` prepends `prefix.` like the module tree does.
 * A bf16/fp16/fp32 mismatch with `computeType` becomes an in-graph Cast: onnxruntime folds it at
 * session creation, which costs a host copy of that tensor (tech-notes.md §1.4).
 */
export class Weights {
  private constructor(
    private readonly g: Graph,
    private readonly ckpt: Checkpoint,
    private readonly options: Required<Omit<WeightsOptions, 'quantized'>> & Pick<WeightsOptions, 'quantized'>,
    private readonly prefix: string,
    private readonly cache: Map<string, Value>,
  ) {}

  static of(g: Graph, ckpt: Checkpoint, options: WeightsOptions): Weights {
    const { policy, emulateFloat16 } = g.precision;
    return new Weights(g, ckpt, { computeType: emulateFloat16 ? 'float32' : policy.rest, ...options }, '', new Map());
  }

  scope(prefix: string): Weights {
    return new Weights(this.g, this.ckpt, this.options, this.key(prefix), this.cache);
  }

  /**
   * The tensor `key` (relative to this view's prefix) in the compute type (or `type`); the stored shape must
   * equal `shape`.
   */
  tensor(key: string, shape: readonly number[], type: 'float32' | 'float16' = this.options.computeType): Value {
    const full = this.key(key);
    const cached = this.cache.get(`${full}|${type}`);
    if (cached) return cached;
    const init = this.external(this.ckpt, full, shape, ['float32', 'float16', 'bfloat16', 'float64']);
    const value = this.g.cast(init, type);
    this.cache.set(`${full}|${type}`, value);
    return value;
  }

  /**
   * `<prefix>.weight` `[out, in]` and, when `bias` is set, `<prefix>.bias` `[out]`: quantised when the quantised
   * checkpoint holds the weight, else in the precision's matmul type (fp16 weights need no fold under fp16-mixed).
   */
  linear(
    prefix: string,
    out: number,
    inp: number,
    o: { bias: boolean } = { bias: false },
  ): LinearWeights | QuantizedLinearWeights {
    const w = this.scope(prefix);
    const q = this.options.quantized;
    const key = w.key('weight');
    if (q?.checkpoint.has(`${key}.packed`)) {
      const blocks = Math.ceil(inp / q.spec.blockSize);
      const packed = this.external(
        q.checkpoint,
        `${key}.packed`,
        [out, blocks, (q.spec.blockSize * q.spec.bits) / 8],
        ['uint8'],
      );
      const scales = this.external(q.checkpoint, `${key}.scales`, [out, blocks], ['float32', 'float16']);
      return {
        quantized: { packed, scales, out, in: inp, spec: q.spec },
        bias: o.bias ? w.tensor('bias', [out]) : null,
      };
    }
    const { policy, emulateFloat16 } = this.g.precision;
    const type = emulateFloat16 ? this.options.computeType : policy.matmul;
    return { weight: w.tensor('weight', [out, inp], type), bias: o.bias ? w.tensor('bias', [out], type) : null };
  }

  has(key: string): boolean {
    return this.ckpt.has(this.key(key));
  }

  /** `full` of `ckpt` as an external initializer after checking its shape and stored type. */
  private external(ckpt: Checkpoint, full: string, shape: readonly number[], types: readonly ElemType[]): Value {
    const info = ckpt.info(full);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new WeightError(
        'wrong-shape',
        info.file,
        `tensor "${full}" in ${info.file} has shape [${info.shape.join(', ')}] but the model config expects [${shape.join(', ')}]`,
        full,
      );
    }
    const stored = ELEM_OF_DTYPE[info.dtype];
    if (!types.includes(stored)) {
      throw new WeightError(
        'wrong-dtype',
        info.file,
        `tensor "${full}" in ${info.file} is ${info.dtype}, expected ${types.join(' or ')}`,
        full,
      );
    }
    return this.g.externalInitializer(
      {
        name: full,
        dtype: stored,
        dims: info.shape,
        file: info.file,
        offset: info.dataOffset,
        length: info.byteLength,
      },
      this.options.root,
    );
  }

  private key(k: string): string {
    if (k === '') return this.prefix;
    return this.prefix === '' ? k : `${this.prefix}.${k}`;
  }
}
