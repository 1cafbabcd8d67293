/**
 * TaylorSeer bookkeeping for one CFG branch, model-notes.md §6.2. Pure state over Float32Arrays the
 * caller supplies: it says whether a transformer call must run the main layers ("full") or may extrapolate
 * ("taylor"), keeps the finite-difference derivatives of the cached feature and evaluates the Taylor series.
 *
 * The reference caches every layer's output, but on a Taylor call only layer 31's extrapolation reaches the
 * final layer, so caching that one feature is exact (§6.2, last bullet).
 *
 * Call schedule (per branch, counter s = number of calls of that branch so far):
 * - full while s < FIRST_ENHANCE, afterwards every FRESH_THRESHOLD-th call (s = 7, 10, 13, … with 5 and 3);
 * - on a full call with previous full call s′ (Δ = s − s′): F₀ ← feature; F_{k+1} ← (F_k^new − F_k^old)/Δ for
 *   every k whose old F_k exists, only once s > FIRST_ENHANCE − 2, up to MAX_ORDER; s = 0 starts from scratch;
 * - on a Taylor call: output = Σ_k F_k·x^k/k!, x = s − (last full call).
 * Arithmetic is float32 per operation, in the reference's order.
 */
import { SamplingError, checkSameLength } from './sampling-error.ts';

/** Official constants (`cache_init` of the OmniGen2 pipeline). */
export const TAYLORSEER_FIRST_ENHANCE = 5;
export const TAYLORSEER_FRESH_THRESHOLD = 3;
export const TAYLORSEER_MAX_ORDER = 4;

export type TaylorSeerCallKind = 'full' | 'taylor';

export class TaylorSeer {
  #step = 0;
  #sinceFull = 0; // the reference's cache_counter
  #lastFull = 0; // activated_steps[-1] (the list starts as [0])
  #factors: Float32Array[] = [];
  #pending: TaylorSeerCallKind | null = null;

  /** Number of completed calls of this branch (s). */
  get step(): number {
    return this.#step;
  }

  /** Highest derivative order currently cached (−1 before the first full call). */
  get order(): number {
    return this.#factors.length - 1;
  }

  /** Start over for a new image (the reference resets its cache at s = 0). */
  reset(): void {
    this.#step = 0;
    this.#sinceFull = 0;
    this.#lastFull = 0;
    this.#factors = [];
    this.#pending = null;
  }

  /** Decide the kind of the next call; follow with {@link recordFull} or {@link predict}. */
  beginCall(): TaylorSeerCallKind {
    if (this.#pending !== null)
      throw new SamplingError('out-of-order', `TaylorSeer call ${this.#step} was begun twice without finishing it`);
    const full = this.#step < TAYLORSEER_FIRST_ENHANCE || this.#sinceFull === TAYLORSEER_FRESH_THRESHOLD - 1;
    if (full) this.#sinceFull = 0;
    else this.#sinceFull += 1;
    this.#pending = full ? 'full' : 'taylor';
    return this.#pending;
  }

  /** Finish a full call with the computed feature (layer 31's output); updates the derivative cache. */
  recordFull(feature: Float32Array): void {
    this.#finish('full');
    const s = this.#step;
    const old = s === 0 ? [] : this.#factors;
    const delta = Math.fround(s - this.#lastFull);
    const factors = [Float32Array.from(feature)];
    for (let k = 0; k < TAYLORSEER_MAX_ORDER && k < old.length && s > TAYLORSEER_FIRST_ENHANCE - 2; k++) {
      const n = checkSameLength('TaylorSeer.recordFull', { feature, cached: old[k]! });
      const next = new Float32Array(n);
      const fresh = factors[k]!;
      const stale = old[k]!;
      for (let j = 0; j < n; j++) next[j] = Math.fround(fresh[j]! - stale[j]!) / delta;
      factors.push(next);
    }
    this.#factors = factors;
    this.#lastFull = s;
    this.#step = s + 1;
  }

  /** Finish a Taylor call: the extrapolated feature Σ F_k·x^k/k!. `out` receives it when given. */
  predict(out?: Float32Array): Float32Array {
    this.#finish('taylor');
    const factors = this.#factors;
    if (factors.length === 0)
      throw new SamplingError('empty-cache', 'TaylorSeer.predict called before any full call was recorded');
    const n = factors[0]!.length;
    const result = out ?? new Float32Array(n);
    checkSameLength('TaylorSeer.predict', { cached: factors[0]!, out: result });
    result.fill(0);
    const x = this.#step - this.#lastFull;
    let factorial = 1;
    for (let k = 0; k < factors.length; k++) {
      if (k > 0) factorial *= k;
      const inv = Math.fround(1 / factorial);
      const power = Math.fround(x ** k);
      const f = factors[k]!;
      for (let j = 0; j < n; j++) result[j] = result[j]! + Math.fround(Math.fround(inv * f[j]!) * power);
    }
    this.#step += 1;
    return result;
  }

  #finish(kind: TaylorSeerCallKind): void {
    if (this.#pending !== kind) {
      const what = this.#pending === null ? 'no call was begun' : `call ${this.#step} is a ${this.#pending} call`;
      throw new SamplingError('out-of-order', `TaylorSeer: cannot finish a ${kind} call, ${what}`);
    }
    this.#pending = null;
  }
}
