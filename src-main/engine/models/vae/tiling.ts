import type { VaeTensor } from './vae-model.ts';

/**
 * Tiled VAE calls (as diffusers' AutoencoderKL tiled_encode/tiled_decode and ComfyUI's tiled VAE): the input is
 * cut into overlapping tiles of one size, each tile runs through the same session (so every call has the same
 * static shape), and the outputs are blended linearly across each overlap. The GroupNorms then see one tile's
 * statistics rather than the whole image's, so a tiled result differs slightly from the untiled one (the
 * tolerance is measured in test/unit/engine/models/vae-tiling.test.ts).
 */
export interface VaeTileOptions {
  /** Tile side in latent pixels (encode tiles are `downscaleFactor` times this in image pixels). */
  readonly tile: number;
  /** Least overlap of neighbouring tiles, in latent pixels; 0 < overlap < tile. */
  readonly overlap: number;
}

/** diffusers' defaults: 512-pixel sample tiles (64 latent pixels), a quarter of it blended. */
export const DEFAULT_VAE_TILES: VaeTileOptions = { tile: 64, overlap: 16 };

/**
 * Starts of the tiles of side `tile` that cover `length`, evenly spread so neighbours share at least `overlap`
 * (both the first and the last tile lie flush with the ends); one tile at 0 when `length ≤ tile`.
 */
export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (![length, tile, overlap].every(Number.isInteger) || length < 1 || tile < 1 || overlap < 0 || overlap >= tile) {
    throw new RangeError(
      `tiles need integers 0 ≤ overlap < tile and length ≥ 1, got length ${length}, tile ${tile}, overlap ${overlap}`,
    );
  }
  if (length <= tile) return [0];
  const n = Math.ceil((length - overlap) / (tile - overlap));
  return Array.from({ length: n }, (_, i) => Math.floor((i * (length - tile)) / (n - 1)));
}

/**
 * Blend weights along one axis for tile `index` of `starts` (all of side `size`, in output pixels): a linear ramp
 * over the part shared with each neighbour, 1 elsewhere (and at the image's own edges). Where two tiles overlap
 * their ramps sum to 1, so the blend is linear across the overlap.
 */
export function axisWeights(starts: readonly number[], size: number, index: number): Float32Array {
  const s = starts[index]!;
  const before = index > 0 ? starts[index - 1]! + size - s : 0;
  const after = index < starts.length - 1 ? s + size - starts[index + 1]! : 0;
  return Float32Array.from({ length: size }, (_, p) =>
    Math.min(1, before > 0 ? (p + 0.5) / before : 1, after > 0 ? (size - p - 0.5) / after : 1),
  );
}

/** One tile of a grid, in input pixels. */
export interface Tile {
  readonly y: number;
  readonly x: number;
  readonly height: number;
  readonly width: number;
}

/** The tile grid over an H×W input (`tile`, `overlap` in input pixels, starts on multiples of `align`). */
export function tileGrid(
  height: number,
  width: number,
  tile: number,
  overlap: number,
  align = 1,
): { rows: number[]; cols: number[]; height: number; width: number } {
  if ([height, width, tile, overlap].some((v) => v % align !== 0))
    throw new RangeError(
      `tile grid: ${height}×${width}, tile ${tile} and overlap ${overlap} must be multiples of ${align}`,
    );
  const axis = (length: number) => tileStarts(length / align, tile / align, overlap / align).map((s) => s * align);
  return { rows: axis(height), cols: axis(width), height: Math.min(tile, height), width: Math.min(tile, width) };
}

export interface TiledRunOptions {
  /** Tile side and least overlap in input pixels (multiples of `align`). */
  readonly tile: number;
  readonly overlap: number;
  readonly align?: number;
  /** Output pixels per input pixel along each axis, as up/down (decode: f/1, encode: 1/f). */
  readonly up: number;
  readonly down: number;
}

/**
 * Runs `run` on every tile of `input` ([B, C, H, W]) and blends its outputs ([B, C_k, h·up/down, w·up/down] each)
 * into whole-size tensors: Σ weight·tile / Σ weight per output pixel. The tiles run one at a time.
 */
export async function runTiled(
  input: VaeTensor,
  o: TiledRunOptions,
  run: (tile: VaeTensor) => Promise<readonly VaeTensor[]>,
): Promise<VaeTensor[]> {
  const [B, C, H, W] = input.dims as [number, number, number, number];
  const grid = tileGrid(H, W, o.tile, o.overlap, o.align ?? 1);
  const scale = (v: number) => (v * o.up) / o.down;
  const [OH, OW, th, tw] = [scale(H), scale(W), scale(grid.height), scale(grid.width)];
  const outRows = grid.rows.map(scale),
    outCols = grid.cols.map(scale);
  const weightSum = new Float32Array(OH * OW);
  let outputs: { data: Float32Array; channels: number }[] | null = null;
  const crop = new Float32Array(B * C * grid.height * grid.width);
  for (const [i, y0] of grid.rows.entries()) {
    const wy = axisWeights(outRows, th, i);
    for (const [j, x0] of grid.cols.entries()) {
      const wx = axisWeights(outCols, tw, j);
      for (let bc = 0; bc < B * C; bc++) {
        for (let y = 0; y < grid.height; y++) {
          const from = (bc * H + y0 + y) * W + x0;
          crop.set(input.data.subarray(from, from + grid.width), (bc * grid.height + y) * grid.width);
        }
      }
      const results = await run({ data: crop, dims: [B, C, grid.height, grid.width] });
      outputs ??= results.map((r) => ({ channels: r.dims[1]!, data: new Float32Array(B * r.dims[1]! * OH * OW) }));
      const oy = outRows[i]!,
        ox = outCols[j]!;
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) weightSum[(oy + y) * OW + ox + x]! += wy[y]! * wx[x]!;
      }
      results.forEach((r, k) => {
        const { data, channels } = outputs![k]!;
        if (r.dims.join() !== [B, channels, th, tw].join())
          throw new RangeError(
            `tiled run: tile output [${r.dims.join(', ')}] is not [${[B, channels, th, tw].join(', ')}]`,
          );
        for (let bc = 0; bc < B * channels; bc++) {
          for (let y = 0; y < th; y++) {
            const row = (bc * OH + oy + y) * OW + ox,
              src = (bc * th + y) * tw,
              w = wy[y]!;
            for (let x = 0; x < tw; x++) data[row + x]! += w * wx[x]! * r.data[src + x]!;
          }
        }
      });
    }
  }
  return outputs!.map(({ data, channels }) => {
    for (let bc = 0; bc < B * channels; bc++) {
      for (let p = 0; p < OH * OW; p++) data[bc * OH * OW + p]! /= weightSum[p]!;
    }
    return { data, dims: [B, channels, OH, OW] };
  });
}
