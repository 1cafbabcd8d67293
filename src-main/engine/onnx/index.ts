export { Graph, type LinearWeights, type Tuple } from './graph.ts';
export type { GraphBuildOptions, QuantizedLinearWeights } from './graph-precision.ts';
export {
  PRECISIONS,
  componentPrecision,
  graphPrecision,
  precisionPolicy,
  storageType,
  type GraphPrecision,
  type ModelComponent,
  type Precision,
  type PrecisionPolicy,
  type QuantSpec,
} from './precision.ts';
export { GraphError, type GraphOptions, type OnnxModel, type Value } from './graph-core.ts';
export type { Dim, ElemType } from './onnx-proto.ts';
export { Checkpoint, Weights, type WeightsOptions } from './weights.ts';
export { OnnxSession, OnnxSessionError, f32, i64, type Feeds, type SessionOptions } from './session.ts';
