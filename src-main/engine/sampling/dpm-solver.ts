/**
 * DPM-Solver++ (2M, midpoint, flow prediction), model-notes.md §5.7.
 *
 * With σ_i = 1 − t_i (σ_N = 0), α_i = 1 − σ_i, λ_i = ln α_i − ln σ_i and h = λ_{i+1} − λ_i:
 *   x̂0_i    = x_i + σ_i·v_i                                   (data prediction)
 *   x_{i+1} = (σ_{i+1}/σ_i)·x_i − α_{i+1}(e^{−h} − 1)·(D0 + ½·D1),  D0 = x̂0_i, D1 = (x̂0_i − x̂0_{i−1})·h/h_prev
 * First order (D1 = 0) at i = 0 and at the last step (final σ is zero), second order otherwise.
 *
 * The endpoints involve λ = ±∞ (§9.3 pitfall 9). Instead of infinite arithmetic we use the identity
 * α_{i+1}·e^{−h} = α_i·σ_{i+1}/σ_i, so the x̂0 coefficient is α_{i+1} − α_i·σ_{i+1}/σ_i, which is finite everywhere:
 *   i = 0   (α_0 = 0): x_1 = σ_1·x_0 + α_1·x̂0_0
 *   i = N−1 (σ_N = 0): x_N = x̂0_{N−1}
 *   i = 1   (λ_0 = −∞ ⇒ h_prev = ∞): D1 = 0.
 * Coefficients are computed in float64 from the float32 σ table; tensor arithmetic is rounded to float32 per
 * operation like the reference's float32 step.
 */
import { SamplingError, checkSameLength } from './sampling-error.ts';
import { flowMatchSigmas } from './timesteps.ts';

export class DpmSolverPlusPlus2M {
  /** σ_0 … σ_N (float32 values, σ_N = 0). */
  readonly sigmas: Float64Array;
  #prevDataPrediction: Float32Array | null = null;
  #nextStep = 0;

  /** @param timesteps the N + 1 values of flowMatchTimesteps (t_N = 1) */
  constructor(timesteps: Float64Array) {
    this.sigmas = flowMatchSigmas(timesteps);
  }

  /** N, the number of steps of the schedule. */
  get steps(): number {
    return this.sigmas.length - 1;
  }

  /** Forget the previous data prediction, so step 0 can run again (a new image with the same schedule). */
  reset(): void {
    this.#prevDataPrediction = null;
    this.#nextStep = 0;
  }

  /**
   * Step i (0-based; steps must run in order 0, 1, …, N−1). `out` may alias `sample`.
   * @param velocity the guided velocity prediction v_i at (x_i, t_i)
   */
  step(
    i: number,
    sample: Float32Array,
    velocity: Float32Array,
    out: Float32Array = new Float32Array(sample.length),
  ): Float32Array {
    if (i !== this.#nextStep) {
      throw new SamplingError(
        'out-of-order',
        `DPM-Solver++ expected step ${this.#nextStep} of ${this.steps}, got step ${i} (call reset() to start over)`,
      );
    }
    const n = checkSameLength('DpmSolverPlusPlus2M.step', { sample, velocity, out });
    const sigmaS = this.sigmas[i]!;
    const sigmaT = this.sigmas[i + 1]!;
    const alphaS = Math.fround(1 - sigmaS);
    const alphaT = Math.fround(1 - sigmaT);
    const sampleCoef = sigmaT / sigmaS; // σ_{i+1}/σ_i
    const dataCoef = alphaT - (alphaS * sigmaT) / sigmaS; // −α_{i+1}(e^{−h} − 1), finite at both ends
    const d1Scale = this.#d1Scale(i); // h/h_prev, or 0 where the step is first order

    const sigmaF = Math.fround(sigmaS);
    const dataPrediction = new Float32Array(n);
    for (let k = 0; k < n; k++) dataPrediction[k] = sample[k]! + Math.fround(sigmaF * velocity[k]!);

    const prev = this.#prevDataPrediction;
    const a = Math.fround(sampleCoef);
    const b = Math.fround(dataCoef);
    if (d1Scale === 0 || prev === null) {
      for (let k = 0; k < n; k++) out[k] = Math.fround(a * sample[k]!) + Math.fround(b * dataPrediction[k]!);
    } else {
      const c = Math.fround(0.5 * dataCoef);
      const r = Math.fround(d1Scale);
      for (let k = 0; k < n; k++) {
        const d0 = dataPrediction[k]!;
        const d1 = Math.fround(r * Math.fround(d0 - prev[k]!));
        out[k] = Math.fround(Math.fround(a * sample[k]!) + Math.fround(b * d0)) + Math.fround(c * d1);
      }
    }
    this.#prevDataPrediction = dataPrediction;
    this.#nextStep = i + 1;
    return out;
  }

  /** 1/r = h/h_prev of the midpoint update; 0 for first-order steps and for the λ_{i−1} = −∞ limit at i = 1. */
  #d1Scale(i: number): number {
    const last = this.steps - 1;
    if (i === 0 || i === last) return 0;
    const lambda = (j: number) => Math.log(1 - this.sigmas[j]!) - Math.log(this.sigmas[j]!);
    if (this.sigmas[i - 1] === 1) return 0; // α_{i−1} = 0 ⇒ h_prev = +∞ ⇒ D1 = 0 (§5.7 step 3)
    const h = lambda(i + 1) - lambda(i);
    const hPrev = lambda(i) - lambda(i - 1);
    return h / hPrev;
  }
}
