import { resolve } from 'node:path';
import {
  graphPrecision,
  storageType,
  type GraphBuildOptions,
  type GraphPrecision,
  type WeightsOptions,
} from '../onnx/index.ts';
import type { Checkpoint } from '../onnx/weights.ts';
import { externalDataRoot } from './cache-location.ts';
import { quantizedCheckpointFor, type QuantizedTensorStats } from './quant-cache.ts';
import { checkpointForCompute, type NarrowingCounts, type WeightCacheProgress } from './weight-cache.ts';

export interface PrecisionWeightsOptions {
  /** The session root. */
  readonly modelRoot: string;
  /** The folder for this model's caches (cache-location.ts); default `<modelRoot>/.atelier-cache/`. */
  readonly cacheDir?: string;
  readonly component: string;
  readonly precision?: GraphBuildOptions['precision'];
  /** The linear weights this component quantises under int8/int4 (key, stored shape `[out, in]`); null: none. */
  readonly quantize: ((key: string, shape: readonly number[]) => boolean) | null;
  /** `cache` (default): convert once into the converted-weight cache; `cast`: leave in-graph Casts (weight-cache.ts). */
  readonly convert?: 'cache' | 'cast';
  readonly onProgress?: (p: WeightCacheProgress) => void;
}

/** What a component's graph factories need for one precision, plus the figures the conversion produced. */
export interface PrecisionWeights {
  readonly precision: GraphPrecision;
  /** The external-data root of the graphs: the model root, or a folder above it and the cache when they differ. */
  readonly root: string;
  /** Float tensors: converted to the storage type (fp16 for the fp16 precisions), or the source when quantised. */
  readonly checkpoint: Checkpoint;
  readonly quantized: WeightsOptions['quantized'];
  /** Tensors that lost values narrowing to fp16 (weight-cache.ts). */
  readonly narrowing: readonly NarrowingCounts[];
  /** Per quantised tensor: error and sizes (quant-cache.ts). */
  readonly quantizedTensors: readonly QuantizedTensorStats[];
}

/**
 * The checkpoints behind one precision (onnx/precision.ts): the float checkpoint converted once to the storage
 * type; for int8/int4 the quantised linear weights, computed once from the source (not from a narrowed copy), and
 * the source itself for the few float tensors left.
 */
export async function weightsForPrecision(source: Checkpoint, o: PrecisionWeightsOptions): Promise<PrecisionWeights> {
  const precision = graphPrecision(o.precision);
  const spec = o.quantize && precision.policy.quant;
  // Quantised, the float tensors left (norms, biases, embedders) are small: in-graph Casts beat a full float copy.
  const converted =
    o.convert === 'cast' || spec
      ? null
      : await checkpointForCompute(source, {
          modelRoot: o.modelRoot,
          cacheDir: o.cacheDir,
          component: o.component,
          dtype: storageType(precision.policy),
          onProgress: o.onProgress,
        });
  const quant =
    spec &&
    o.quantize &&
    (await quantizedCheckpointFor(source, {
      modelRoot: o.modelRoot,
      cacheDir: o.cacheDir,
      component: o.component,
      layout: spec,
      select: o.quantize,
      onProgress: o.onProgress,
    }));
  const cached = converted?.dir ?? (quant ? quant.dir : null);
  return {
    precision,
    root: cached === null ? resolve(o.modelRoot) : externalDataRoot(o.modelRoot, cached),
    checkpoint: converted?.checkpoint ?? source,
    quantized: quant && spec ? { checkpoint: quant.checkpoint, spec } : undefined,
    narrowing: converted?.narrowing ?? [],
    quantizedTensors: quant?.tensors ?? [],
  };
}
