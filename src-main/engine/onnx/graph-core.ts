import { isAbsolute, relative, resolve, sep } from 'node:path';
import {
  ELEM_BYTES,
  encodeModel,
  type AttributeValue,
  type Dim,
  type ElemType,
  type NodeProtoData,
  type TensorProtoData,
  type ValueInfoData,
} from './onnx-proto.ts';

/** A tensor in a graph under construction. `shape` is what the builder could infer (null = unknown rank). */
export interface Value {
  readonly name: string;
  readonly dtype: ElemType;
  readonly shape: readonly Dim[] | null;
}

/** A mistake in graph construction, reported at the line that built the bad node. */
export class GraphError extends Error {
  override readonly name = 'GraphError';
}

export interface GraphOptions {
  /** Graph name, also the model name in error messages (e.g. `dit_main`). */
  name: string;
  /** Default-domain opset; 23 is the lowest with RMSNormalization and RotaryEmbedding (tech-notes.md §1.6). */
  opset?: number;
  /** When true, every `tap()` becomes an extra graph output named `<scope>/<label>` (debugging, conformance). */
  taps?: boolean;
}

/** A serialised model plus what a session needs to load it. */
export interface OnnxModel {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Folder that external-data locations are relative to; null when every initializer is inline. */
  readonly externalDataRoot: string | null;
  readonly inputs: readonly ValueInfoData[];
  readonly outputs: readonly ValueInfoData[];
  /** Names of the initializers read from weights files (checkpoint keys), in insertion order. */
  readonly externalInitializers: readonly string[];
}

export interface ExternalTensor {
  name: string;
  dtype: ElemType;
  dims: readonly number[];
  file: string;
  /** Absolute byte offset of the data in `file` (safetensors TensorInfo.dataOffset). */
  offset: number;
  length: number;
}

export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

// IR 11 is what ONNX 1.18 (opset 23) writes; onnxruntime-node 1.30 reads up to IR 13 (tech-notes.md §1.3).
const IR_VERSION = 11;
/** Domain of onnxruntime's contrib ops (MultiHeadAttention, …). */
export const MS_DOMAIN = 'com.microsoft';

/**
 * Bookkeeping shared by all ops: unique names that follow the scope path (`layers.7/attn/Gemm_12`),
 * scopes that stay balanced when a builder throws, deduplicated inline constants, initializers that
 * point into safetensors files, graph inputs/outputs, and serialisation.
 */
export class GraphCore {
  readonly name: string;
  private readonly opset: number;
  private readonly tapsEnabled: boolean;
  private readonly nodes: NodeProtoData[] = [];
  private readonly initializers = new Map<string, { proto: TensorProtoData; value: Value }>();
  private readonly inputs: ValueInfoData[] = [];
  private readonly outputs: ValueInfoData[] = [];
  private readonly usedNames = new Set<string>();
  private readonly owned = new WeakSet<Value>();
  private readonly constants = new Map<string, Value>();
  private readonly scopes: string[] = [];
  private usesMsDomain = false;
  private externalRoot: string | null = null;
  private counter = 0;

  constructor(options: GraphOptions) {
    this.name = options.name;
    this.opset = options.opset ?? 23;
    this.tapsEnabled = options.taps ?? false;
  }

  /** Runs `build` with `name` appended to the node-name path; the scope is closed even if `build` throws. */
  scope<T>(name: string, build: () => T): T {
    if (name === '' || name.includes('/'))
      throw new GraphError(`scope name must be non-empty and contain no "/": "${name}"`);
    this.scopes.push(name);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** The current scope path, e.g. `layers.7/attn`. */
  get scopePath(): string {
    return this.scopes.join('/');
  }

  input(name: string, dtype: ElemType, shape: readonly Dim[]): Value {
    this.claim(name);
    this.inputs.push({ name, dtype, shape });
    return this.own({ name, dtype, shape });
  }

  /** Declares `v` a graph output called `name` (an Identity is inserted when the names differ). */
  output(v: Value, name: string): void {
    this.check(v);
    let out = v;
    if (v.name !== name) {
      this.claim(name);
      this.nodes.push({
        name: `${name}/Identity`,
        opType: 'Identity',
        domain: '',
        inputs: [v.name],
        outputs: [name],
        attributes: new Map(),
      });
      out = { name, dtype: v.dtype, shape: v.shape };
    }
    this.outputs.push({ name: out.name, dtype: out.dtype, shape: out.shape });
  }

  /** A named intermediate; exposed as an output only when the graph was built with `taps: true`. */
  tap(label: string, v: Value): Value {
    if (this.tapsEnabled) this.output(v, this.scopePath === '' ? label : `${this.scopePath}/${label}`);
    return v;
  }

  /** An inline constant, deduplicated by dtype, shape and bytes. Meant for small tensors (shapes, scalars, norms). */
  constant(data: TypedData, dtype: ElemType, dims: readonly number[]): Value {
    const count = dims.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length !== count * ELEM_BYTES[dtype])
      throw new GraphError(
        `constant ${dtype}[${dims.join(',')}] needs ${count * ELEM_BYTES[dtype]} bytes, got ${bytes.length}`,
      );
    const key = `${dtype}|${dims.join(',')}|${Buffer.from(bytes).toString('base64')}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const shown = count <= 8 ? Array.from(data as ArrayLike<number | bigint>, String).join(',') : `n${count}`;
    const name = this.unique(`const_${dtype}_[${shown}]`);
    const value = this.addInitializer({ name, dtype, dims, data: { kind: 'raw', bytes: bytes.slice() } });
    this.constants.set(key, value);
    return value;
  }

  /**
   * An initializer whose bytes stay in `file` (ONNX external data). `root` is the folder the session
   * resolves locations against; the file must lie inside it, and every external tensor of a graph
   * must share one root (onnxruntime rejects absolute and escaping locations, tech-notes.md §1.3).
   */
  externalInitializer(t: ExternalTensor, root: string): Value {
    const existing = this.initializers.get(t.name);
    if (existing) {
      const d = existing.proto.data;
      if (
        d.kind !== 'external' ||
        resolve(this.externalRoot ?? '', d.location) !== resolve(t.file) ||
        d.offset !== t.offset
      ) {
        throw new GraphError(`graph ${this.name}: initializer "${t.name}" is already defined with other data`);
      }
      return existing.value;
    }
    const absRoot = resolve(root);
    if (this.externalRoot !== null && this.externalRoot !== absRoot) {
      throw new GraphError(
        `graph ${this.name}: tensor "${t.name}" uses external-data root ${absRoot}, but the graph already uses ${this.externalRoot}`,
      );
    }
    const rel = relative(absRoot, resolve(t.file));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new GraphError(`graph ${this.name}: weights file ${t.file} is not inside the model folder ${absRoot}`);
    }
    this.externalRoot = absRoot;
    this.claim(t.name);
    return this.addInitializer({
      name: t.name,
      dtype: t.dtype,
      dims: t.dims,
      data: { kind: 'external', location: rel.split(sep).join('/'), offset: t.offset, length: t.length },
    });
  }

  build(): OnnxModel {
    if (this.outputs.length === 0) throw new GraphError(`graph ${this.name} has no outputs`);
    const opsets = [{ domain: '', version: this.opset }];
    if (this.usesMsDomain) opsets.push({ domain: MS_DOMAIN, version: 1 });
    const bytes = encodeModel({
      irVersion: IR_VERSION,
      opsets,
      producerName: 'atelier',
      graph: {
        name: this.name,
        nodes: this.nodes,
        initializers: [...this.initializers.values()].map((i) => i.proto),
        inputs: this.inputs,
        outputs: this.outputs,
      },
    });
    const externalInitializers = [...this.initializers.values()]
      .filter((i) => i.proto.data.kind === 'external')
      .map((i) => i.proto.name);
    return {
      name: this.name,
      bytes,
      externalDataRoot: this.externalRoot,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      externalInitializers,
    };
  }

  /**
   * Appends one node. `null` inputs are omitted optional inputs. Output names are derived from the
   * scope path so a dump of the graph lines up with the checkpoint's module tree.
   */
  protected node(
    opType: string,
    inputs: readonly (Value | null)[],
    outputs: readonly { dtype: ElemType; shape: readonly Dim[] | null }[],
    attributes: Record<string, AttributeValue> = {},
    domain = '',
  ): Value[] {
    for (const v of inputs) if (v) this.check(v);
    if (domain === MS_DOMAIN) this.usesMsDomain = true;
    const name = this.unique(
      this.scopePath === '' ? `${opType}_${this.counter}` : `${this.scopePath}/${opType}_${this.counter}`,
    );
    this.counter++;
    const outs = outputs.map((o, i) =>
      this.own({ name: outputs.length === 1 ? name : this.unique(`${name}:${i}`), dtype: o.dtype, shape: o.shape }),
    );
    const names = inputs.map((v) => v?.name ?? '');
    // Trailing omitted inputs are dropped, not written as "": onnxruntime 1.30's LayerNormalization crashes on `B = ""`.
    while (names.at(-1) === '') names.pop();
    this.nodes.push({
      name,
      opType,
      domain,
      inputs: names,
      outputs: outs.map((o) => o.name),
      attributes: new Map(Object.entries(attributes)),
    });
    return outs;
  }

  /** The caller has claimed `proto.name` already. */
  private addInitializer(proto: TensorProtoData): Value {
    const value = this.own({ name: proto.name, dtype: proto.dtype, shape: proto.dims });
    this.initializers.set(proto.name, { proto, value });
    return value;
  }

  private own(v: Value): Value {
    this.owned.add(v);
    return v;
  }

  private check(v: Value): void {
    if (!this.owned.has(v))
      throw new GraphError(
        `value "${v.name}" does not belong to graph ${this.name} (values cannot move between graphs)`,
      );
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new GraphError(`graph ${this.name}: the name "${name}" is already taken`);
    this.usedNames.add(name);
  }

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}~${i}`;
    this.usedNames.add(name);
    return name;
  }
}
