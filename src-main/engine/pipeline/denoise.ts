import {
  DitStepCache,
  type DitAcceleration,
  type DitModel,
  type DitStepCacheStats,
  type FloatTensor,
  type TextContext,
} from '../models/dit.ts';
import { throwIfCancelled } from '../cancellation.ts';
import { DpmSolverPlusPlus2M } from '../sampling/dpm-solver.ts';
import { eulerStep } from '../sampling/euler.ts';
import {
  combineGuidance,
  stepGuidance,
  type BranchOutputs,
  type GuidanceBranch,
  type GuidanceSettings,
} from '../sampling/guidance.ts';
import { flowMatchTimesteps } from '../sampling/timesteps.ts';

export type SchedulerName = 'euler' | 'dpmsolver++';

/** The conditioning of each guidance branch (§2.5): cond = prompt + refs, ref = negative + refs, uncond = negative alone. */
export interface BranchInputs {
  prompt: TextContext;
  /** Needed when any step is guided. */
  negative: TextContext | null;
  refs: readonly FloatTensor[];
}

export interface StepRecord {
  step: number;
  steps: number;
  t: number;
  sampleIn: Float32Array;
  /** The guided velocity. */
  velocity: Float32Array;
  sampleOut: Float32Array;
  /** Branches that ran this step. */
  branches: readonly GuidanceBranch[];
  /** Latent dims `[C, h, w]`. */
  dims: readonly number[];
}

export interface DenoiseOptions {
  dit: DitModel;
  /** x_0 at t = 0 (pure noise), `[C, h, w]`; not modified. */
  initial: FloatTensor;
  steps: number;
  scheduler: SchedulerName;
  guidance: Omit<GuidanceSettings, 'inputImages'>;
  branches: BranchInputs;
  signal?: AbortSignal;
  /** TeaCache or TaylorSeer (§6); each guidance branch keeps its own state. Absent: every layer every step. */
  acceleration?: DitAcceleration;
  /** Receives how many calls per branch ran the main layers (for reports and benchmarks). */
  onCacheStats?: (stats: Partial<Record<GuidanceBranch, DitStepCacheStats>>) => void;
  /** Awaited after every step (progress, previews, golden checks). */
  onStep?: (record: StepRecord) => void | Promise<void>;
}

/**
 * The sampling loop of §5.11 step 7: per step only the branches the guidance needs (§5.8), combined, then one
 * scheduler step (§5.6 Euler or §5.7 DPM-Solver++). Returns x_N, the clean latent at t = 1.
 */
export async function denoise(o: DenoiseOptions): Promise<Float32Array> {
  const [, h, w] = o.initial.dims as [number, number, number];
  const timesteps = flowMatchTimesteps(o.steps, h * w); // §5.5: latent pixels, not patch tokens
  const dpm = o.scheduler === 'dpmsolver++' ? new DpmSolverPlusPlus2M(timesteps) : null;
  const settings: GuidanceSettings = { ...o.guidance, inputImages: o.branches.refs.length };
  const acceleration = o.acceleration;
  const caches: Partial<Record<GuidanceBranch, DitStepCache>> = {};
  const cacheFor = (branch: GuidanceBranch) =>
    acceleration ? (caches[branch] ??= new DitStepCache(acceleration, o.steps)) : undefined;
  let x: Float32Array = Float32Array.from(o.initial.data);
  for (let i = 0; i < o.steps; i++) {
    throwIfCancelled(o.signal ?? new AbortController().signal);
    const g = stepGuidance(settings, i, o.steps);
    const t = timesteps[i]!;
    const latent: FloatTensor = { data: x, dims: o.initial.dims };
    const outputs: { -readonly [K in keyof BranchOutputs]: BranchOutputs[K] } = { cond: new Float32Array(0) };
    for (const branch of g.branches) {
      const cache = cacheFor(branch);
      outputs[branch] = await o.dit.forwardOne(
        { latent, timestep: t, ...branchConditioning(branch, o.branches) },
        cache ? { cache, step: i } : {},
      );
    }
    const velocity = combineGuidance(g, outputs);
    const next = dpm ? dpm.step(i, x, velocity) : eulerStep(x, velocity, t, timesteps[i + 1]!);
    await o.onStep?.({
      step: i,
      steps: o.steps,
      t,
      sampleIn: x,
      velocity,
      sampleOut: next,
      branches: g.branches,
      dims: o.initial.dims,
    });
    x = next;
  }
  if (acceleration) o.onCacheStats?.(Object.fromEntries(Object.entries(caches).map(([b, c]) => [b, c.stats])));
  return x;
}

function branchConditioning(
  branch: GuidanceBranch,
  b: BranchInputs,
): { text: TextContext; refs: readonly FloatTensor[] } {
  if (branch === 'cond') return { text: b.prompt, refs: b.refs };
  if (!b.negative) throw new Error(`the "${branch}" guidance branch needs the negative prompt's embedding`);
  return branch === 'ref' ? { text: b.negative, refs: b.refs } : { text: b.negative, refs: [] };
}
