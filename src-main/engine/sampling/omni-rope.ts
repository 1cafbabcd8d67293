/**
 * Omni-RoPE of the OmniGen2 transformer (model-notes.md §4): position ids per token and the
 * per-token cos/sin tables that the DiT graphs take as inputs.
 */

/** A token grid: latent height/2 × width/2 for patch size 2. */
export interface TokenGrid {
  readonly rows: number;
  readonly cols: number;
}

/** Position ids `(id_seq, row, col)` per token, flattened `[n, 3]`. */
export type Positions = Int32Array;

export interface OmniRopeIds {
  readonly text: Positions;
  /** One entry per reference image, in order. */
  readonly refs: readonly Positions[];
  readonly image: Positions;
}

function gridPositions(seqId: number, grid: TokenGrid): Positions {
  const p = new Int32Array(grid.rows * grid.cols * 3);
  for (let r = 0, n = 0; r < grid.rows; r++) {
    for (let c = 0; c < grid.cols; c++, n += 3) {
      p[n] = seqId;
      p[n + 1] = r;
      p[n + 2] = c;
    }
  }
  return p;
}

/**
 * §4.1: text token i → (i, i, i); reference j → constant id L + Σ_{m<j} max(R_m, C_m) with local
 * (row, col); the output image → L + Σ_m max(R_m, C_m) with local (row, col).
 * Example: L = 100, refs 48×64 and 64×64, output 64×64 → ids 100, 164, 228.
 */
export function omniRopeIds(textLength: number, refGrids: readonly TokenGrid[], outputGrid: TokenGrid): OmniRopeIds {
  const check = (what: string, v: number) => {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`omniRopeIds: ${what} must be a non-negative integer, got ${v}`);
  };
  check('textLength', textLength);
  refGrids.forEach((g, j) => {
    check(`ref ${j} rows`, g.rows);
    check(`ref ${j} cols`, g.cols);
  });
  check('output rows', outputGrid.rows);
  check('output cols', outputGrid.cols);
  const text = new Int32Array(textLength * 3);
  for (let i = 0; i < textLength; i++) text.fill(i, 3 * i, 3 * i + 3);
  let seqId = textLength;
  const refs = refGrids.map((g) => {
    const p = gridPositions(seqId, g);
    seqId += Math.max(g.rows, g.cols);
    return p;
  });
  return { text, refs, image: gridPositions(seqId, outputGrid) };
}

/** Per-token rotation table: `cos`/`sin` `[tokens, pairs]`, pairs = Σ axesDim / 2 = head_dim / 2. */
export interface RopeTable {
  readonly tokens: number;
  readonly pairs: number;
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/**
 * §4.2–4.3: axis a owns pairs [Σ_{b<a} d_b/2, …) of the head; pair j of axis a turns by
 * pos_a · θ^(−2j/d_a). Angles in float64 like the reference's complex128 tables, stored as fp32.
 * The pair layout is the interleaved one: pair j rotates head channels (2j, 2j+1).
 */
export function omniRopeTable(positions: Positions, axesDim: readonly number[], theta = 10000): RopeTable {
  if (axesDim.length !== 3 || axesDim.some((d) => !Number.isInteger(d) || d <= 0 || d % 2 !== 0)) {
    throw new RangeError(`omniRopeTable: axesDim must be three positive even sizes, got [${axesDim.join(', ')}]`);
  }
  if (positions.length % 3 !== 0)
    throw new RangeError(`omniRopeTable: positions must be [n, 3], got ${positions.length} values`);
  const tokens = positions.length / 3;
  const pairs = axesDim.reduce((a, d) => a + d / 2, 0);
  const freqs: { axis: number; omega: number }[] = axesDim.flatMap((d, axis) =>
    Array.from({ length: d / 2 }, (_, j) => ({ axis, omega: 1 / theta ** ((2 * j) / d) })),
  );
  const cos = new Float32Array(tokens * pairs);
  const sin = new Float32Array(tokens * pairs);
  for (let n = 0; n < tokens; n++) {
    for (let k = 0; k < pairs; k++) {
      const { axis, omega } = freqs[k]!;
      const angle = positions[3 * n + axis]! * omega;
      cos[n * pairs + k] = Math.cos(angle);
      sin[n * pairs + k] = Math.sin(angle);
    }
  }
  return { tokens, pairs, cos, sin };
}

/** Tables of consecutive token runs, joined in order (e.g. text | refs | image for the joint sequence). */
export function concatRopeTables(tables: readonly RopeTable[], pairs: number): RopeTable {
  for (const t of tables)
    if (t.pairs !== pairs) throw new RangeError(`concatRopeTables: a table has ${t.pairs} pairs, expected ${pairs}`);
  const tokens = tables.reduce((a, t) => a + t.tokens, 0);
  const cos = new Float32Array(tokens * pairs);
  const sin = new Float32Array(tokens * pairs);
  let at = 0;
  for (const t of tables) {
    cos.set(t.cos, at);
    sin.set(t.sin, at);
    at += t.cos.length;
  }
  return { tokens, pairs, cos, sin };
}
