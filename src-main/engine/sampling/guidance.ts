/**
 * Three-branch classifier-free guidance, model-notes.md §5.8 (and §5.3 last rule, §5.11 step 7).
 *
 * Branches (each a separate transformer call, §2.5):
 *   cond   c = v(prompt,   reference latents)
 *   ref    r = v(negative, reference latents)
 *   uncond u = v(negative, no references)
 * Guidance is active at step i of N iff cfgStart ≤ i/N ≤ cfgEnd; outside, both scales are 1.
 *   s_txt > 1 and s_img > 1:  u + s_img·(r − u) + s_txt·(c − r)     (c, r, u)
 *   s_txt > 1, s_img ≤ 1:     u + s_txt·(c − u)                      (c, u)
 *   s_txt ≤ 1:                c                                      (c)
 * Without input images the image scale is forced to 1 (the pipeline does this before sampling).
 */
import { SamplingError, checkSameLength } from './sampling-error.ts';

export type GuidanceBranch = 'cond' | 'ref' | 'uncond';

export interface GuidanceSettings {
  /** s_txt (text_guidance_scale) */
  readonly textScale: number;
  /** s_img (image_guidance_scale) */
  readonly imageScale: number;
  /** [cfg_range_start, cfg_range_end] as fractions of the step count, inclusive */
  readonly cfgRange: readonly [number, number];
  /** number of reference images; 0 forces s_img = 1 */
  readonly inputImages: number;
}

/** What one denoising step runs: the effective scales and exactly the branches they need, in call order. */
export interface StepGuidance {
  readonly textScale: number;
  readonly imageScale: number;
  readonly branches: readonly GuidanceBranch[];
}

function checkSettings(s: GuidanceSettings): void {
  const [start, end] = s.cfgRange;
  if (!Number.isFinite(s.textScale) || !Number.isFinite(s.imageScale)) {
    throw new SamplingError(
      'bad-argument',
      `guidance scales must be finite, got text ${s.textScale}, image ${s.imageScale}`,
    );
  }
  if (!(Number.isFinite(start) && Number.isFinite(end))) {
    throw new SamplingError('bad-argument', `cfgRange must be two finite numbers, got [${start}, ${end}]`);
  }
  if (!Number.isSafeInteger(s.inputImages) || s.inputImages < 0) {
    throw new SamplingError('bad-argument', `inputImages must be a non-negative integer, got ${s.inputImages}`);
  }
}

/**
 * The guidance of step `step` (0-based) of `steps`: effective scales after cfg-range gating and the
 * branches to compute. Only these branches need a transformer call.
 */
export function stepGuidance(settings: GuidanceSettings, step: number, steps: number): StepGuidance {
  checkSettings(settings);
  if (!Number.isSafeInteger(steps) || steps < 1 || !Number.isSafeInteger(step) || step < 0 || step >= steps) {
    throw new SamplingError('bad-argument', `step must be an integer in [0, ${steps}), got ${step} (steps ${steps})`);
  }
  const imageScale = settings.inputImages === 0 ? 1 : settings.imageScale;
  const fraction = step / steps;
  const active = settings.cfgRange[0] <= fraction && fraction <= settings.cfgRange[1];
  const sTxt = active ? settings.textScale : 1;
  const sImg = active ? imageScale : 1;
  const branches: GuidanceBranch[] = sTxt > 1 ? (sImg > 1 ? ['cond', 'ref', 'uncond'] : ['cond', 'uncond']) : ['cond'];
  return { textScale: sTxt, imageScale: sImg, branches };
}

/**
 * Whether any step runs a negative-prompt branch, i.e. whether the MLLM must encode the negative prompt.
 * (The reference encodes it whenever s_txt > 1, even if the cfg range leaves no guided step.)
 */
export function needsNegativePrompt(settings: GuidanceSettings, steps: number): boolean {
  for (let i = 0; i < steps; i++) if (stepGuidance(settings, i, steps).branches.length > 1) return true;
  return false;
}

export interface BranchOutputs {
  readonly cond: Float32Array;
  readonly ref?: Float32Array;
  readonly uncond?: Float32Array;
}

function required(outputs: BranchOutputs, branch: GuidanceBranch, g: StepGuidance): Float32Array {
  const v = outputs[branch];
  if (!v)
    throw new SamplingError(
      'bad-argument',
      `guidance with text ${g.textScale}, image ${g.imageScale} needs the "${branch}" branch output, which was not given`,
    );
  return v;
}

/**
 * Combine the branch velocities of one step per the §5.8 table, float32 per operation like the reference.
 * With a single branch the result is `cond` itself (copied into `out` when one is given).
 */
export function combineGuidance(g: StepGuidance, outputs: BranchOutputs, out?: Float32Array): Float32Array {
  const c = outputs.cond;
  if (g.branches.length === 1) {
    if (!out) return c;
    checkSameLength('combineGuidance', { cond: c, out });
    out.set(c);
    return out;
  }
  const u = required(outputs, 'uncond', g);
  const result = out ?? new Float32Array(c.length);
  const sTxt = Math.fround(g.textScale);
  if (g.branches.length === 2) {
    const n = checkSameLength('combineGuidance', { cond: c, uncond: u, out: result });
    for (let k = 0; k < n; k++) result[k] = u[k]! + Math.fround(sTxt * Math.fround(c[k]! - u[k]!));
    return result;
  }
  const r = required(outputs, 'ref', g);
  const sImg = Math.fround(g.imageScale);
  const n = checkSameLength('combineGuidance', { cond: c, ref: r, uncond: u, out: result });
  for (let k = 0; k < n; k++) {
    const withImage = Math.fround(u[k]! + Math.fround(sImg * Math.fround(r[k]! - u[k]!)));
    result[k] = withImage + Math.fround(sTxt * Math.fround(c[k]! - r[k]!));
  }
  return result;
}
