import { TaylorSeer } from '../../sampling/taylorseer.ts';
import { TEACACHE_DEFAULT_THRESHOLD, TeaCache } from '../../sampling/teacache.ts';

/** The optional accelerations of model-notes.md §6 (off unless the caller asks). */
export type DitAcceleration =
  { readonly kind: 'teacache'; readonly threshold?: number } | { readonly kind: 'taylorseer' };

/** What the runner hands the cache for one transformer call: the pieces around the main layers. */
export interface MainStackCall {
  /** Scheduler step index of this call; TeaCache always computes the first and last step (§6.1). */
  readonly step: number | undefined;
  /** N·D: the image tokens are the last N of the joint sequence, the only ones the final layer reads. */
  readonly imageValues: number;
  /** Embeddings and refiners: j `[S, D]` and layers.0's modulated input m `[S, D]`. */
  joint(): Promise<{ joint: Float32Array; modulated: Float32Array }>;
  /** The main layers: j → layer 31's output `[S, D]`. */
  layers(joint: Float32Array): Promise<Float32Array>;
}

export interface DitStepCacheStats {
  /** Transformer calls of this branch. */
  readonly calls: number;
  /** Calls that ran the main layers (the rest skipped or extrapolated them). */
  readonly computed: number;
}

/**
 * The TeaCache or TaylorSeer state of ONE guidance branch (§6: each branch keeps its own), for the
 * sampling of one image. Pass it to `DitModel.forwardOne(item, { cache, step })` on every call of that
 * branch. TaylorSeer keeps only the image tokens of layer 31's output: the final layer is per token and
 * reads nothing else, so this is exact (the argument of §6.2's last bullet) and N/S of the memory.
 */
export class DitStepCache {
  readonly #tea: TeaCache | null;
  readonly #seer: TaylorSeer | null;
  #calls = 0;
  #computed = 0;

  /** `steps`: the schedule length of the image being sampled (TeaCache's last step always computes). */
  constructor(
    readonly acceleration: DitAcceleration,
    readonly steps: number,
  ) {
    if (!Number.isSafeInteger(steps) || steps < 1)
      throw new RangeError(`DitStepCache needs the number of steps (≥ 1), got ${steps}`);
    this.#tea =
      acceleration.kind === 'teacache' ? new TeaCache(acceleration.threshold ?? TEACACHE_DEFAULT_THRESHOLD) : null;
    this.#seer = acceleration.kind === 'taylorseer' ? new TaylorSeer() : null;
  }

  get stats(): DitStepCacheStats {
    return { calls: this.#calls, computed: this.#computed };
  }

  /** Layer 31's output over the image tokens `[N, D]`: computed, or TeaCache's j + R, or TaylorSeer's extrapolation. */
  async mainStack(call: MainStackCall): Promise<Float32Array> {
    const out = this.#tea ? await this.#teaCache(this.#tea, call) : await this.#taylorSeer(this.#seer!, call);
    if (out.length !== call.imageValues)
      throw new RangeError(
        `${this.acceleration.kind}: the cached feature has ${out.length} values, this call needs ${call.imageValues} (the image size changed within one branch)`,
      );
    this.#calls++;
    return out;
  }

  /** §6.1, over the whole joint sequence as specified; the final layer then reads the image tokens. */
  async #teaCache(tea: TeaCache, call: MainStackCall): Promise<Float32Array> {
    if (call.step === undefined)
      throw new RangeError('TeaCache needs the scheduler step index of every call (forwardOne options.step)');
    const { joint, modulated } = await call.joint();
    if (!tea.shouldCompute(modulated, call.step, this.steps))
      return tail(tea.applyResidual(joint, joint), call.imageValues); // j is ours to overwrite
    const hidden = await call.layers(joint);
    tea.recordResidual(joint, hidden);
    this.#computed++;
    return tail(hidden, call.imageValues);
  }

  /**
   * §6.2. A Taylor call needs neither the embeddings nor the refiners: in the reference their outputs only
   * feed layers that return their own extrapolation, so skipping them is exact.
   */
  async #taylorSeer(seer: TaylorSeer, call: MainStackCall): Promise<Float32Array> {
    if (seer.beginCall() === 'taylor') return seer.predict();
    const { joint } = await call.joint();
    const hidden = tail(await call.layers(joint), call.imageValues);
    seer.recordFull(hidden);
    this.#computed++;
    return hidden;
  }
}

function tail(x: Float32Array, values: number): Float32Array {
  if (values > x.length)
    throw new RangeError(`the joint sequence holds ${x.length} values, fewer than the ${values} of the image tokens`);
  return x.subarray(x.length - values);
}
