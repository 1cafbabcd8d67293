/**
 * Multimodal RoPE of the Qwen2.5-VL text decoder (model-notes.md §2.3): three position components
 * (t, h, w) per token, and the per-token cos/sin tables the text graph takes as inputs (rotate-half layout).
 *
 * Worked example, 2×2 merged image grid after 3 text tokens, then 2 text tokens:
 *   tokens  T  T  T  I  I  I  I  T  T
 *   t       0  1  2  3  3  3  3  5  6
 *   h       0  1  2  3  3  4  4  5  6
 *   w       0  1  2  3  4  3  4  5  6     ropeDelta = (6 + 1) − 9 = −2
 * A token at sequence index i ≥ 9 (generation) sits at i + ropeDelta on all three components.
 */
import type { RopeTable } from './omni-rope.ts';

/** An image's patch grid as `image_grid_thw` reports it (14-px patches, before the merge). */
export interface PatchGrid {
  readonly t: number;
  readonly h: number;
  readonly w: number;
}

/** Position ids `[3, n]` component-major (all t, then all h, then all w), as transformers lays them out. */
export interface MropePositions {
  readonly length: number;
  readonly ids: Int32Array;
  /** max(ids) + 1 − length: what generation adds to a token's sequence index to get its position. */
  readonly ropeDelta: number;
}

export interface MropeLayout {
  /** The `<|image_pad|>` id: each image is a run of these, one per merged patch. */
  readonly imageTokenId: number;
  /** `vision_config.spatial_merge_size` (2): the LLM sees a (h/m)×(w/m) grid per image. */
  readonly spatialMergeSize: number;
}

/**
 * Position ids for a sequence mixing text and images (`get_rope_index` of Qwen2.5-VL, images only).
 * A text run continues one past the previous maximum (the first starts at 0) on all components; image k
 * (its run of `imageTokenId`s) starting after position P gets t = P+1, h = P+1+row, w = P+1+col over its
 * merged grid (t stays P+1: an image has no temporal extent). Images must be given in sequence order.
 */
export function mropePositionIds(
  inputIds: ArrayLike<number>,
  images: readonly PatchGrid[],
  layout: MropeLayout,
): MropePositions {
  const n = inputIds.length;
  const ids = new Int32Array(3 * n);
  const m = layout.spatialMergeSize;
  let next = 0; // first position of the next text run
  let image = 0;
  for (let i = 0; i < n;) {
    if (inputIds[i] !== layout.imageTokenId) {
      ids[i] = ids[n + i] = ids[2 * n + i] = next++;
      i++;
      continue;
    }
    const grid = images[image];
    if (grid === undefined)
      throw new RangeError(`the sequence has more images than the ${images.length} image grids given`);
    if (![grid.t, grid.h / m, grid.w / m].every((v) => Number.isInteger(v) && v > 0)) {
      throw new RangeError(
        `image ${image}: grid ${grid.t}×${grid.h}×${grid.w} does not tile into ${m}×${m} merge windows`,
      );
    }
    const rows = grid.h / m,
      cols = grid.w / m,
      count = grid.t * rows * cols;
    for (let k = 0; k < count; k++) {
      const at = i + k;
      if (inputIds[at] !== layout.imageTokenId)
        throw new RangeError(
          `image ${image} needs ${count} image tokens from index ${i}, but index ${at} holds ${inputIds[at] ?? 'nothing'}`,
        );
      const inFrame = k % (rows * cols);
      ids[at] = next;
      ids[n + at] = next + Math.floor(inFrame / cols);
      ids[2 * n + at] = next + (inFrame % cols);
    }
    next += Math.max(rows, cols);
    i += count;
    image++;
  }
  if (image !== images.length)
    throw new RangeError(`${images.length} image grids were given but the sequence holds ${image} images`);
  return { length: n, ids, ropeDelta: next - n };
}

/** Text-only ids: all three components 0 … n−1 (ordinary 1-D RoPE, §2.3 step 3). */
export function textPositionIds(length: number): MropePositions {
  return continuationPositionIds(0, length, 0);
}

/**
 * Ids of `count` tokens appended at sequence indices `start`, `start+1`, … during generation: each sits at
 * index + ropeDelta on all components (§2.3, last sentence).
 */
export function continuationPositionIds(start: number, count: number, ropeDelta: number): MropePositions {
  if (!Number.isInteger(start) || start < 0 || !Number.isInteger(count) || count < 0) {
    throw new RangeError(`positions need a non-negative integer start and count, got ${start} and ${count}`);
  }
  const ids = new Int32Array(3 * count);
  for (let i = 0; i < count; i++) ids[i] = ids[count + i] = ids[2 * count + i] = start + i + ropeDelta;
  return { length: count, ids, ropeDelta };
}

export interface MropeOptions {
  readonly headDim: number;
  readonly theta: number;
  /** Frequency slots per component (t, h, w); sums to headDim/2 ([16, 24, 24] for 3B). */
  readonly section: readonly [number, number, number];
}

/** Which component (0 = t, 1 = h, 2 = w) drives each frequency slot j < headDim/2. */
function slotComponents(o: MropeOptions): Uint8Array {
  const pairs = o.headDim / 2;
  const [st, sh, sw] = o.section;
  if (!Number.isInteger(pairs) || st + sh + sw !== pairs || o.section.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new RangeError(`mrope_section [${o.section.join(', ')}] must sum to head_dim/2 = ${pairs}`);
  }
  return Uint8Array.from({ length: pairs }, (_, j) => (j < st ? 0 : j < st + sh ? 1 : 2));
}

/**
 * cos/sin `[n, headDim/2]` for RotaryEmbedding in the rotate-half layout: slot j pairs channels (j, j + d/2)
 * and turns by θ_j = pos_{comp(j)} · inv_freq_j, inv_freq_j = theta^(−2j/d).
 * The angle is formed as the reference forms it (float32 inv_freq times the position, rounded to float32);
 * cos and sin of that angle are evaluated in float64 and rounded once.
 */
export function mropeRopeTable(positions: MropePositions, o: MropeOptions): RopeTable {
  const comp = slotComponents(o);
  const pairs = comp.length;
  const d = o.headDim;
  const invFreq = Float64Array.from({ length: pairs }, (_, j) =>
    Math.fround(1 / Math.fround(o.theta ** Math.fround((2 * j) / d))),
  );
  const n = positions.length;
  const cos = new Float32Array(n * pairs);
  const sin = new Float32Array(n * pairs);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < pairs; j++) {
      const angle = Math.fround(positions.ids[comp[j]! * n + i]! * invFreq[j]!);
      cos[i * pairs + j] = Math.cos(angle);
      sin[i * pairs + j] = Math.sin(angle);
    }
  }
  return { tokens: n, pairs, cos, sin };
}
