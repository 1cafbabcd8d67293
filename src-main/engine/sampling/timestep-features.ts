/**
 * Sinusoidal timestep features of the DiT (model-notes.md §3.1; diffusers `Timesteps(256,
 * flip_sin_to_cos=True, downscale_freq_shift=0, scale=timestep_scale)`): e = [cos a_k, sin a_k] with
 * a_k = scale · (t · exp(−ln(10000)·k/half)). Each step is rounded to float32 like the reference, because
 * at a_k ≈ 1000 one fp32 ulp of the angle is already 6e-5.
 */
export function timestepFeatures(
  t: number,
  o: { channels?: number; scale?: number; maxPeriod?: number } = {},
): Float32Array {
  const channels = o.channels ?? 256;
  const scale = o.scale ?? 1000;
  const maxPeriod = o.maxPeriod ?? 10000;
  if (!Number.isFinite(t)) throw new RangeError(`timestepFeatures: t must be finite, got ${t}`);
  if (!Number.isInteger(channels) || channels < 2 || channels % 2 !== 0)
    throw new RangeError(`timestepFeatures: channels must be even, got ${channels}`);
  const half = channels / 2;
  const f32 = Math.fround;
  const negLog = f32(-Math.log(maxPeriod));
  const tt = f32(t);
  const e = new Float32Array(channels);
  for (let k = 0; k < half; k++) {
    const freq = f32(Math.exp(f32(f32(negLog * k) / half)));
    const angle = f32(scale * f32(tt * freq));
    e[k] = Math.cos(angle);
    e[half + k] = Math.sin(angle);
  }
  return e;
}
