import type { CropRect } from '../../../../../src-main/ipc/contract.ts';

/** What a pointer drags: the whole rectangle, or one of its corners or edges. */
export type Handle = 'move' | 'n' | 's' | 'e' | 'w' | 'ne' | 'nw' | 'se' | 'sw';
export interface Size {
  width: number;
  height: number;
}

/** The crop never gets smaller than one 16-pixel block (the engine works in multiples of 16). */
export const MIN_SIDE = 16;

/**
 * The rectangle after dragging `handle` by (dx, dy) source pixels from `start`, kept inside the image. With an
 * aspect ratio (width / height), corners keep it and the side opposite the handle stays put.
 */
export function dragRect(
  start: CropRect,
  handle: Handle,
  dx: number,
  dy: number,
  bounds: Size,
  aspect: number | null,
): CropRect {
  if (handle === 'move') {
    return {
      ...start,
      x: clamp(start.x + dx, 0, bounds.width - start.width),
      y: clamp(start.y + dy, 0, bounds.height - start.height),
    };
  }
  let left = start.x;
  let top = start.y;
  let right = start.x + start.width;
  let bottom = start.y + start.height;
  if (handle.includes('w')) left = clamp(left + dx, 0, right - MIN_SIDE);
  if (handle.includes('e')) right = clamp(right + dx, left + MIN_SIDE, bounds.width);
  if (handle.includes('n')) top = clamp(top + dy, 0, bottom - MIN_SIDE);
  if (handle.includes('s')) bottom = clamp(bottom + dy, top + MIN_SIDE, bounds.height);
  if (aspect === null || handle.length !== 2) return { x: left, y: top, width: right - left, height: bottom - top };

  const maxWidth = handle.includes('w') ? right : bounds.width - left;
  const maxHeight = handle.includes('n') ? bottom : bounds.height - top;
  // The drag's main direction leads; the other side follows the aspect.
  const leading = Math.abs(dx) >= Math.abs(dy) * aspect ? right - left : (bottom - top) * aspect;
  const width = Math.min(leading, maxWidth, maxHeight * aspect);
  const height = width / aspect;
  return {
    x: handle.includes('w') ? right - width : left,
    y: handle.includes('n') ? bottom - height : top,
    width,
    height,
  };
}

/** The largest rectangle of `aspect` centred in the image (choosing a preset starts from this). */
export function centredAspect(bounds: Size, aspect: number | null): CropRect {
  if (aspect === null) return { x: 0, y: 0, ...bounds };
  const width = Math.min(bounds.width, bounds.height * aspect);
  const height = width / aspect;
  return { x: (bounds.width - width) / 2, y: (bounds.height - height) / 2, width, height };
}

/** Whole pixels inside the image, at least MIN_SIDE; what the numeric fields and Apply use. */
export function roundRect(r: CropRect, bounds: Size): CropRect {
  const width = clamp(Math.round(r.width), Math.min(MIN_SIDE, bounds.width), bounds.width);
  const height = clamp(Math.round(r.height), Math.min(MIN_SIDE, bounds.height), bounds.height);
  return {
    x: clamp(Math.round(r.x), 0, bounds.width - width),
    y: clamp(Math.round(r.y), 0, bounds.height - height),
    width,
    height,
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
