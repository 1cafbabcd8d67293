/**
 * Flow-matching timestep schedule with the resolution-dependent ("dynamic") shift,
 * model-notes.md §5.5. Convention: t = 0 is pure noise, t = 1 is data; σ = 1 − t.
 *
 * The reference builds τ with `np.linspace(0, 1, N + 1, dtype=float32)[:-1]`, applies the shift and stores
 * the result as float32 (§9.3 pitfall 10). We evaluate the shift in float64 on the float32 τ and round the
 * result to float32, so every value returned here is exactly representable as float32.
 */
import { SamplingError } from './sampling-error.ts';

/** Shift m = √(imageTokens)/40 (§5.5): 1024² image → 128² latent → m = 3.2. */
export function timeShift(imageTokens: number): number {
  if (!Number.isSafeInteger(imageTokens) || imageTokens < 1) {
    throw new SamplingError(
      'bad-argument',
      `imageTokens must be a positive integer (latent height × width), got ${imageTokens}`,
    );
  }
  return Math.sqrt(imageTokens) / 40;
}

function checkSteps(steps: number): void {
  if (!Number.isSafeInteger(steps) || steps < 1) {
    throw new SamplingError('bad-argument', `steps must be a positive integer, got ${steps}`);
  }
}

/**
 * Timesteps t_0 … t_{N−1} of the shifted schedule, then t_N = 1 (N + 1 values, all float32-exact).
 * @param steps N, the number of denoising steps
 * @param imageTokens latent height × width (latent pixels, not 2×2 patch tokens)
 */
export function flowMatchTimesteps(steps: number, imageTokens: number): Float64Array {
  checkSteps(steps);
  const m = timeShift(imageTokens);
  const t = new Float64Array(steps + 1);
  const step = 1 / steps; // numpy linspace: start + i·(1/N), then cast to float32
  for (let i = 0; i < steps; i++) {
    const tau = Math.fround(i * step);
    t[i] = Math.fround(tau / (m - m * tau + tau));
  }
  t[steps] = 1;
  return t;
}

/**
 * Noise levels σ_i = 1 − t_i in float32 (as the DPM-Solver++ scheduler stores them, §5.7), with σ_N = 0.
 * @param timesteps the N + 1 values from {@link flowMatchTimesteps}
 */
export function flowMatchSigmas(timesteps: Float64Array): Float64Array {
  if (timesteps.length < 2 || timesteps[timesteps.length - 1] !== 1) {
    throw new SamplingError(
      'bad-argument',
      `expected N + 1 timesteps ending in t_N = 1, got ${timesteps.length} values`,
    );
  }
  const sigmas = new Float64Array(timesteps.length);
  for (let i = 0; i < timesteps.length - 1; i++) sigmas[i] = Math.fround(1 - timesteps[i]!);
  sigmas[timesteps.length - 1] = 0;
  return sigmas;
}
