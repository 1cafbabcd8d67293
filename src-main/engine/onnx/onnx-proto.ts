import { ProtoWriter } from './protobuf.ts';

/**
 * Plain-data mirror of the ONNX messages Atelier writes, and their encoder.
 * Field numbers are those of onnx/onnx.proto (stable across ONNX releases).
 */

/** TensorProto.DataType values. */
export const ONNX_DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;
/** Element types by the names onnxruntime-common uses (`bfloat16` is ONNX-only: the Node binding cannot feed it). */
export type ElemType = Exclude<keyof typeof ONNX_DATA_TYPE, 'string'>;

export const ELEM_BYTES: Record<ElemType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
  uint32: 4,
  uint64: 8,
  bfloat16: 2,
};

/** A dimension: a size, the name of a dynamic axis, or null when unknown. */
export type Dim = number | string | null;

export interface TensorProtoData {
  name: string;
  dtype: ElemType;
  dims: readonly number[];
  /** Inline little-endian bytes, or a byte range of a file relative to the model's external-data folder. */
  data: { kind: 'raw'; bytes: Uint8Array } | { kind: 'external'; location: string; offset: number; length: number };
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'tensor'; value: TensorProtoData };

export interface NodeProtoData {
  name: string;
  opType: string;
  domain: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: ReadonlyMap<string, AttributeValue>;
}

export interface ValueInfoData {
  name: string;
  dtype: ElemType;
  /** null = unknown rank. */
  shape: readonly Dim[] | null;
}

export interface GraphProtoData {
  name: string;
  nodes: readonly NodeProtoData[];
  initializers: readonly TensorProtoData[];
  inputs: readonly ValueInfoData[];
  outputs: readonly ValueInfoData[];
}

export interface ModelProtoData {
  irVersion: number;
  opsets: readonly { domain: string; version: number }[];
  producerName: string;
  graph: GraphProtoData;
  metadata?: Readonly<Record<string, string>>;
}

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeTensor(w: ProtoWriter, t: TensorProtoData): void {
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, ONNX_DATA_TYPE[t.dtype]);
  w.string(8, t.name);
  if (t.data.kind === 'raw') {
    w.bytes(9, t.data.bytes);
    return;
  }
  const entries: [string, string][] = [
    ['location', t.data.location],
    ['offset', String(t.data.offset)],
    ['length', String(t.data.length)],
  ];
  for (const [key, value] of entries) w.message(13, (e) => e.string(1, key).string(2, value));
  w.int(14, 1); // DataLocation.EXTERNAL
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeValue): void {
  w.string(1, name);
  w.int(20, ATTRIBUTE_TYPE[a.kind]);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
}

function writeNode(w: ProtoWriter, n: NodeProtoData): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of n.attributes) w.message(5, (m) => writeAttribute(m, name, a));
  if (n.domain !== '') w.string(7, n.domain);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoData): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_DATA_TYPE[v.dtype]);
      if (v.shape) {
        const dims = v.shape;
        tensor.message(2, (shape) => {
          for (const d of dims) {
            shape.message(1, (dim) => {
              if (typeof d === 'number') dim.int(1, d);
              else if (typeof d === 'string') dim.string(2, d);
            });
          }
        });
      }
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphProtoData): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** Serialises a ModelProto. Weights stay outside (external data), so the result is small even for the 4B DiT. */
export function encodeModel(m: ModelProtoData): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  w.message(7, (g) => writeGraph(g, m.graph));
  for (const o of m.opsets) w.message(8, (s) => s.string(1, o.domain).int(2, o.version));
  for (const [key, value] of Object.entries(m.metadata ?? {})) w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}
