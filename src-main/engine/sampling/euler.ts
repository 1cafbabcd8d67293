/**
 * Euler step of the flow-matching sampler, model-notes.md §5.6:
 * x_{i+1} = x_i + (t_{i+1} − t_i)·v_i, with v the (guided) velocity prediction.
 * The reference does this in float32 on float32 timesteps; every product and sum here is rounded to
 * float32 the same way (Math.fround of an exact double result = the float32 IEEE result).
 */
import { checkSameLength } from './sampling-error.ts';

/**
 * One Euler step. `out` may alias `sample` for an in-place update.
 * @param tNow t_i, @param tNext t_{i+1} (from flowMatchTimesteps; t_N = 1)
 */
export function eulerStep(
  sample: Float32Array,
  velocity: Float32Array,
  tNow: number,
  tNext: number,
  out: Float32Array = new Float32Array(sample.length),
): Float32Array {
  const n = checkSameLength('eulerStep', { sample, velocity, out });
  const dt = Math.fround(Math.fround(tNext) - Math.fround(tNow));
  for (let k = 0; k < n; k++) out[k] = sample[k]! + Math.fround(dt * velocity[k]!);
  return out;
}
