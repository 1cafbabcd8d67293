import { SeededRng } from '../../sampling/rng.ts';

/**
 * How the next token is chosen from the logits, in transformers' order: repetition penalty, then temperature,
 * top-k and top-p, then a draw. `temperature: 0` is greedy decoding (argmax after the penalty).
 */
export interface SamplingOptions {
  readonly temperature: number;
  /** Nucleus size: keep the most likely tokens until their probability reaches this. 1 = off. */
  readonly topP: number;
  /** Keep only the k most likely tokens. 0 = off. */
  readonly topK: number;
  /** > 1 discourages every token already in the prompt or the reply (CTRL-style, as transformers does). 1 = off. */
  readonly repetitionPenalty: number;
}

export const GREEDY: SamplingOptions = Object.freeze({ temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 });

/** Tokens this far (in logit/temperature units) below the best carry < e^-40 of its probability each: ignored. */
const NEGLIGIBLE = 40;

export function checkSamplingOptions(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature))
    throw new RangeError(`temperature must be ≥ 0, got ${o.temperature}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new RangeError(`top-p must be in (0, 1], got ${o.topP}`);
  if (!Number.isInteger(o.topK) || o.topK < 0)
    throw new RangeError(`top-k must be a non-negative integer, got ${o.topK}`);
  if (!(o.repetitionPenalty > 0) || !Number.isFinite(o.repetitionPenalty))
    throw new RangeError(`repetition penalty must be > 0, got ${o.repetitionPenalty}`);
}

/** Picks tokens one at a time; sampled draws come from the seeded stream, so a seed fixes the reply. */
export class TokenSampler {
  private readonly rng: SeededRng;

  constructor(
    readonly options: SamplingOptions,
    seed: number | bigint = 0,
  ) {
    checkSamplingOptions(options);
    this.rng = new SeededRng(seed);
  }

  /** @param seen every token id of the prompt and the reply so far (for the repetition penalty) */
  pick(logits: Float32Array, seen: ReadonlySet<number>): number {
    const scores = Float64Array.from(logits);
    const penalty = this.options.repetitionPenalty;
    if (penalty !== 1) {
      for (const id of seen) {
        const s = scores[id];
        if (s !== undefined) scores[id] = s < 0 ? s * penalty : s / penalty;
      }
    }
    return this.options.temperature === 0 ? argmax(scores) : this.draw(scores);
  }

  private draw(scores: Float64Array): number {
    const { temperature, topK, topP } = this.options;
    const best = scores[argmax(scores)]! / temperature;
    // Candidates sorted by descending score (ties: lower id first, as a stable sort over ids gives).
    const candidates: number[] = [];
    for (let id = 0; id < scores.length; id++) if (scores[id]! / temperature >= best - NEGLIGIBLE) candidates.push(id);
    candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
    let kept = candidates;
    if (topK > 0 && kept.length > topK) {
      const kth = scores[kept[topK - 1]!]!;
      kept = kept.filter((id) => scores[id]! >= kth); // ties with the k-th stay, as in TopKLogitsWarper
    }
    const weights = kept.map((id) => Math.exp(scores[id]! / temperature - best));
    const total = weights.reduce((a, b) => a + b, 0);
    if (topP < 1) {
      // Keep the smallest prefix whose probability reaches topP (the token that crosses it included).
      let mass = 0,
        n = 0;
      while (n < kept.length && mass < topP * total) mass += weights[n++]!;
      kept = kept.slice(0, Math.max(n, 1));
      weights.length = kept.length;
    }
    const sum = weights.reduce((a, b) => a + b, 0);
    let u = this.rng.nextFloat64() * sum;
    for (let i = 0; i < kept.length; i++) {
      u -= weights[i]!;
      if (u < 0) return kept[i]!;
    }
    return kept[kept.length - 1]!;
  }
}

/** Index of the largest score; the first one on ties (torch.argmax). */
function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}
