/**
 * Host-side tables of the Qwen2.5-VL vision tower for one frame (model-notes.md §2.4 steps 2–3):
 * the 2-D rotary angles per patch, the window permutation (the reference's `window_index`) with its
 * window boundaries (`cu_window_seqlens`), and the padded window batch the graph attends over.
 *
 * Frames are independent in the reference: full attention runs per frame (`cu_seqlens` steps by h·w),
 * windows never cross frames and every frame gets the same rotary table, so everything here is per frame.
 *
 * Token order is the processor's (§2.4 preprocessing): merge units of m×m patches row-major over the
 * (rows/m, cols/m) unit grid, the m×m patches of a unit row-major inside it.
 */

/** A frame's grid in patches: image_grid_thw's h and w. */
export interface PatchGrid {
  readonly rows: number;
  readonly cols: number;
}

/** Per-patch rotation table `[tokens, pairs]` in the processor's token order. */
export interface VisionRotaryTable {
  readonly tokens: number;
  readonly pairs: number;
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/** The reference's window partition of one frame. */
export interface WindowLayout {
  /** unitOrder[k] = the merge unit at position k of the window-by-window order (`window_index`). */
  readonly unitOrder: Int32Array;
  /** Window boundaries in patch tokens of that order, from 0 to the token count; no empty windows. */
  readonly cuSeqlens: Int32Array;
}

/**
 * Windows padded to one width so they can be attended as a batch: slot (b, i) holds the i-th token of
 * window b; slots past a window's end repeat its first token and are masked out as keys.
 */
export interface WindowBatch {
  readonly windows: number;
  readonly width: number;
  /** `[windows, width]`: slot → token index in the processor's order. */
  readonly gather: Int32Array;
  /** `[tokens]`: token → its slot (b·width + i). */
  readonly scatter: Int32Array;
  /** `[windows, 1, width, width]` additive attention bias: 0 for real keys, MASKED_KEY_BIAS for padding keys. */
  readonly bias: Float32Array;
}

/**
 * Bias of a padding key: exp(s − 65504 − max) is exactly 0 in fp32, so the mask is exact. Finite because
 * WGSL kernels may assume there are no infinities; −65504 is also representable in fp16 (its lowest value).
 */
export const MASKED_KEY_BIAS = -65504;

function checkGrid(grid: PatchGrid, mergeSize: number): void {
  const ok = (v: number) => Number.isInteger(v) && v > 0 && v % mergeSize === 0;
  if (!ok(grid.rows) || !ok(grid.cols)) {
    throw new RangeError(
      `a vision patch grid must be positive multiples of the merge size ${mergeSize}, got ${grid.rows}×${grid.cols}`,
    );
  }
}

/** (row, col) of token n in the processor's order. */
export function patchPosition(n: number, grid: PatchGrid, mergeSize: number): [number, number] {
  const unit = Math.floor(n / (mergeSize * mergeSize));
  const inner = n % (mergeSize * mergeSize);
  const unitsPerRow = grid.cols / mergeSize;
  return [
    Math.floor(unit / unitsPerRow) * mergeSize + Math.floor(inner / mergeSize),
    (unit % unitsPerRow) * mergeSize + (inner % mergeSize),
  ];
}

/**
 * §2.4 step 2: angles [row·f_0 … row·f_{p/2−1}, col·f_0 … col·f_{p/2−1}] with f_j = θ^(−2j/p),
 * p = pairs = head_dim/2, used in the rotate-half layout (head_dim/2 pairs (j, j + head_dim/2)).
 * The reference builds f and the angles in float32 (`Qwen2_5_VisionRotaryEmbedding`); so does this.
 */
export function visionRotaryTable(
  grid: PatchGrid,
  o: { mergeSize: number; pairs: number; theta: number },
): VisionRotaryTable {
  checkGrid(grid, o.mergeSize);
  const half = o.pairs / 2;
  const invFreq = Float32Array.from({ length: half }, (_, j) =>
    Math.fround(1 / Math.fround(o.theta ** Math.fround((2 * j) / o.pairs))),
  );
  const tokens = grid.rows * grid.cols;
  const cos = new Float32Array(tokens * o.pairs);
  const sin = new Float32Array(tokens * o.pairs);
  for (let n = 0; n < tokens; n++) {
    const [row, col] = patchPosition(n, grid, o.mergeSize);
    for (let j = 0; j < half; j++) {
      const rowAngle = Math.fround(row * invFreq[j]!);
      const colAngle = Math.fround(col * invFreq[j]!);
      cos[n * o.pairs + j] = Math.cos(rowAngle);
      sin[n * o.pairs + j] = Math.sin(rowAngle);
      cos[n * o.pairs + half + j] = Math.cos(colAngle);
      sin[n * o.pairs + half + j] = Math.sin(colAngle);
    }
  }
  return { tokens, pairs: o.pairs, cos, sin };
}

/**
 * §2.4 step 3 (`get_window_index`): windows of windowUnits×windowUnits merge units tile the unit grid
 * row-major; the reference pads the grid at the right/bottom with dummy units and drops them, so edge
 * windows are just smaller (and the all-padding windows it creates when a side divides evenly vanish
 * with `unique_consecutive`). Inside a window the units keep their row-major order.
 */
export function visionWindowLayout(grid: PatchGrid, o: { mergeSize: number; windowUnits: number }): WindowLayout {
  checkGrid(grid, o.mergeSize);
  const unitRows = grid.rows / o.mergeSize;
  const unitCols = grid.cols / o.mergeSize;
  const u = o.windowUnits;
  const unitOrder = new Int32Array(unitRows * unitCols);
  const cuSeqlens = [0];
  let k = 0;
  for (let wy = 0; wy < unitRows; wy += u) {
    for (let wx = 0; wx < unitCols; wx += u) {
      for (let r = wy; r < Math.min(wy + u, unitRows); r++) {
        for (let c = wx; c < Math.min(wx + u, unitCols); c++) unitOrder[k++] = r * unitCols + c;
      }
      cuSeqlens.push(k * o.mergeSize * o.mergeSize);
    }
  }
  return { unitOrder, cuSeqlens: Int32Array.from(cuSeqlens) };
}

/** inverse[p[k]] = k; throws unless `p` is a permutation of 0 … n−1. */
export function invertPermutation(p: Int32Array): Int32Array {
  const inverse = new Int32Array(p.length).fill(-1);
  for (let k = 0; k < p.length; k++) {
    const v = p[k]!;
    if (!(v >= 0 && v < p.length) || inverse[v] !== -1)
      throw new RangeError(`not a permutation: entry ${k} is ${v} (n = ${p.length})`);
    inverse[v] = k;
  }
  return inverse;
}

/**
 * Token index (processor order) at each position of the window-by-window order: the permutation acts
 * on whole merge units, so the mergeUnit patches of a unit stay together and in order.
 */
export function windowTokenOrder(layout: WindowLayout, mergeUnit: number): Int32Array {
  const order = new Int32Array(layout.unitOrder.length * mergeUnit);
  for (let k = 0; k < layout.unitOrder.length; k++) {
    for (let i = 0; i < mergeUnit; i++) order[k * mergeUnit + i] = layout.unitOrder[k]! * mergeUnit + i;
  }
  return order;
}

/**
 * The block-diagonal window mask of §2.4 as a padded batch. Attending each slot row over its window's
 * slots with the bias is exactly attention restricted to the window: padding keys get weight 0,
 * and every row keeps at least the window's own tokens as keys (§9.3.8).
 */
export function windowBatch(layout: WindowLayout, mergeUnit: number): WindowBatch {
  const order = windowTokenOrder(layout, mergeUnit);
  const cu = layout.cuSeqlens;
  const windows = cu.length - 1;
  let width = 0;
  for (let b = 0; b < windows; b++) width = Math.max(width, cu[b + 1]! - cu[b]!);
  const gather = new Int32Array(windows * width);
  const scatter = new Int32Array(order.length);
  const bias = new Float32Array(windows * width * width);
  for (let b = 0; b < windows; b++) {
    const start = cu[b]!;
    const length = cu[b + 1]! - start;
    for (let i = 0; i < width; i++) {
      const slot = b * width + i;
      if (i < length) {
        gather[slot] = order[start + i]!;
        scatter[order[start + i]!] = slot;
      } else {
        gather[slot] = order[start]!;
        for (let q = 0; q < width; q++) bias[(b * width + q) * width + i] = MASKED_KEY_BIAS;
      }
    }
  }
  return { windows, width, gather, scatter, bias };
}
