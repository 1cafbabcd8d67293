/**
 * Latent ↔ token layout of §3.2: latent `[C, h, w]` → tokens `[(h/p)(w/p), p²·C]`, token n = r·(w/p) + c
 * (row-major), element `(p1·p + p2)·C + ch` = latent `[ch, p·r + p1, p·c + p2]`.
 */

export interface LatentShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

function checkShape(what: string, data: Float32Array, s: LatentShape, p: number): void {
  if (s.height % p !== 0 || s.width % p !== 0)
    throw new RangeError(`${what}: latent ${s.height}×${s.width} is not a multiple of the patch size ${p}`);
  if (data.length !== s.channels * s.height * s.width)
    throw new RangeError(`${what}: ${data.length} values do not fill [${s.channels}, ${s.height}, ${s.width}]`);
}

export function patchify(latent: Float32Array, s: LatentShape, p: number): Float32Array {
  checkShape('patchify', latent, s, p);
  const { channels: C, height: h, width: w } = s;
  const cols = w / p;
  const dim = p * p * C;
  const out = new Float32Array(latent.length);
  for (let ch = 0; ch < C; ch++) {
    for (let y = 0; y < h; y++) {
      const r = Math.floor(y / p),
        p1 = y % p;
      for (let x = 0; x < w; x++) {
        const c = Math.floor(x / p),
          p2 = x % p;
        out[(r * cols + c) * dim + (p1 * p + p2) * C + ch] = latent[(ch * h + y) * w + x]!;
      }
    }
  }
  return out;
}

export function unpatchify(tokens: Float32Array, s: LatentShape, p: number): Float32Array {
  checkShape('unpatchify', tokens, s, p);
  const { channels: C, height: h, width: w } = s;
  const cols = w / p;
  const dim = p * p * C;
  const out = new Float32Array(tokens.length);
  for (let ch = 0; ch < C; ch++) {
    for (let y = 0; y < h; y++) {
      const r = Math.floor(y / p),
        p1 = y % p;
      for (let x = 0; x < w; x++) {
        const c = Math.floor(x / p),
          p2 = x % p;
        out[(ch * h + y) * w + x] = tokens[(r * cols + c) * dim + (p1 * p + p2) * C + ch]!;
      }
    }
  }
  return out;
}
