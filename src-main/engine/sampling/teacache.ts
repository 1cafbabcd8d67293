/**
 * TeaCache bookkeeping for one CFG branch, model-notes.md §6.1. Pure state: the caller runs the
 * transformer pieces and hands in Float32Arrays; this class decides whether the 32 main layers must run.
 *
 * Per call at step i of N, with j the joint sequence entering layer 0 and m = layer 0's modulated norm1(j):
 * - first and last step: compute, A ← 0;
 * - otherwise δ = mean|m − P| / mean|P|, A ← A + poly(δ); skip when A < threshold, else compute and A ← 0;
 * - P ← m always; after a computed call R ← (layer-31 output) − j; a skipped call outputs j + R.
 * Each branch (cond / ref / uncond) needs its own instance (§6).
 */
import { SamplingError, checkSameLength } from './sampling-error.ts';

/** poly(x) coefficients, highest degree first (np.poly1d order), from the official implementation. */
export const TEACACHE_COEFFICIENTS = [-5.48259225, 11.48772289, -4.47407401, 2.47730926, -0.03316487] as const;
/** The official default threshold (`teacache_rel_l1_thresh`), ≈30 % fewer main-stack runs. */
export const TEACACHE_DEFAULT_THRESHOLD = 0.05;

/** poly(δ), the rescaling of the relative L1 change (§6.1). */
export function teacacheRescale(relL1: number): number {
  let acc = 0;
  for (const c of TEACACHE_COEFFICIENTS) acc = acc * relL1 + c;
  return acc;
}

/** mean|a − b| / mean|b| (float64 accumulation). */
export function relativeL1(current: Float32Array, previous: Float32Array): number {
  const n = checkSameLength('relativeL1', { current, previous });
  let diff = 0;
  let base = 0;
  for (let k = 0; k < n; k++) {
    diff += Math.abs(current[k]! - previous[k]!);
    base += Math.abs(previous[k]!);
  }
  return diff / base;
}

export class TeaCache {
  #accumulated = 0;
  #previousModulated: Float32Array | null = null;
  #residual: Float32Array | null = null;

  constructor(readonly threshold: number = TEACACHE_DEFAULT_THRESHOLD) {
    if (!(threshold >= 0) || !Number.isFinite(threshold)) {
      throw new SamplingError('bad-argument', `TeaCache threshold must be a non-negative number, got ${threshold}`);
    }
  }

  /** Accumulated rescaled distance A since the last computed call. */
  get accumulated(): number {
    return this.#accumulated;
  }

  /**
   * Decide for this call whether the main stack must run. Keeps a copy of `modulated` as the next P.
   * @param modulated m = RMSNorm(j)·g ∘ (1 + s_a) of layers.0.norm1
   */
  shouldCompute(modulated: Float32Array, step: number, steps: number): boolean {
    if (!Number.isSafeInteger(steps) || steps < 1 || !Number.isSafeInteger(step) || step < 0 || step >= steps) {
      throw new SamplingError('bad-argument', `step must be an integer in [0, ${steps}), got ${step}`);
    }
    const previous = this.#previousModulated;
    let compute = true;
    if (step === 0 || step === steps - 1 || previous === null || previous.length !== modulated.length) {
      this.#accumulated = 0;
    } else {
      this.#accumulated += teacacheRescale(relativeL1(modulated, previous));
      if (this.#accumulated < this.threshold && this.#residual !== null && this.#residual.length === modulated.length) {
        compute = false;
      } else {
        this.#accumulated = 0;
      }
    }
    this.#previousModulated = Float32Array.from(modulated);
    return compute;
  }

  /** After a computed call: R ← stackOutput − joint. */
  recordResidual(joint: Float32Array, stackOutput: Float32Array): void {
    const n = checkSameLength('TeaCache.recordResidual', { joint, stackOutput });
    const r = new Float32Array(n);
    for (let k = 0; k < n; k++) r[k] = stackOutput[k]! - joint[k]!;
    this.#residual = r;
  }

  /** On a skipped call: the main stack's output is joint + R. `out` may alias `joint`. */
  applyResidual(joint: Float32Array, out: Float32Array = new Float32Array(joint.length)): Float32Array {
    const r = this.#residual;
    if (r === null)
      throw new SamplingError('empty-cache', 'TeaCache.applyResidual called before any residual was recorded');
    const n = checkSameLength('TeaCache.applyResidual', { joint, residual: r, out });
    for (let k = 0; k < n; k++) out[k] = joint[k]! + r[k]!;
    return out;
  }
}
