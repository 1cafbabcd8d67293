import { GraphError } from './graph-core.ts';
import type { Dim } from './onnx-proto.ts';

/** Cheap static shape inference: exact where sizes are known, `null` dims where they are not. */

export type Shape = readonly Dim[] | null;

export function fmt(shape: Shape): string {
  return shape === null ? '[?]' : `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** Normalises a possibly negative axis; throws when it is out of range for a known rank. */
export function axisOf(axis: number, shape: Shape, op: string): number {
  if (shape === null) {
    if (axis < 0) throw new GraphError(`${op}: negative axis ${axis} on a value of unknown rank`);
    return axis;
  }
  const a = axis < 0 ? axis + shape.length : axis;
  if (a < 0 || a >= shape.length) throw new GraphError(`${op}: axis ${axis} is out of range for shape ${fmt(shape)}`);
  return a;
}

function sameDim(a: Dim, b: Dim): boolean {
  return a !== null && a === b;
}

/** Numpy broadcasting; throws on two known, different, non-1 sizes. */
export function broadcast(op: string, a: Shape, b: Shape): Shape {
  if (a === null || b === null) return null;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const ia = a.length - rank + i,
      ib = b.length - rank + i;
    const x = ia < 0 ? 1 : a[ia]!; // missing leading dims broadcast as 1; a null dim stays unknown
    const y = ib < 0 ? 1 : b[ib]!;
    if (x === 1) out.push(y);
    else if (y === 1 || sameDim(x, y)) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number')
      throw new GraphError(`${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    else out.push(typeof x === 'number' ? x : typeof y === 'number' ? y : null);
  }
  return out;
}

/** Requires `dim` to equal `want` when both are known sizes. */
export function expectDim(op: string, what: string, dim: Dim | undefined, want: Dim): void {
  if (typeof dim === 'number' && typeof want === 'number' && dim !== want)
    throw new GraphError(`${op}: ${what} is ${dim}, expected ${want}`);
}

export function reshapeShape(op: string, input: Shape, target: readonly number[]): Shape {
  const out: Dim[] = target.map((d, i) => (d === 0 ? (input?.[i] ?? null) : d === -1 ? null : d));
  const minus = target.indexOf(-1);
  if (minus >= 0 && input !== null && input.every((d) => typeof d === 'number')) {
    const total = (input as number[]).reduce((p, d) => p * d, 1);
    const known = out.reduce<number>((p, d, i) => (i === minus ? p : p * (d as number)), 1);
    if (out.every((d, i) => i === minus || typeof d === 'number')) {
      if (known === 0 || total % known !== 0)
        throw new GraphError(`${op}: cannot reshape ${fmt(input)} to [${target.join(', ')}]`);
      out[minus] = total / known;
    }
  }
  return out;
}

export function concatShape(op: string, shapes: Shape[], axis: number): Shape {
  const first = shapes[0];
  if (first === undefined) throw new GraphError(`${op}: nothing to concatenate`);
  if (shapes.some((s) => s === null) || first === null) return null;
  const a = axisOf(axis, first, op);
  const out: Dim[] = [...first];
  let total: Dim = 0;
  for (const s of shapes as (readonly Dim[])[]) {
    if (s.length !== first.length) throw new GraphError(`${op}: ranks differ (${shapes.map(fmt).join(' vs ')})`);
    s.forEach((d, i) => {
      if (i !== a) expectDim(op, `dim ${i} of ${fmt(s)}`, d, first[i] ?? null);
    });
    const d = s[a] ?? null;
    total = typeof total === 'number' && typeof d === 'number' ? total + d : null;
  }
  out[a] = total;
  return out;
}
