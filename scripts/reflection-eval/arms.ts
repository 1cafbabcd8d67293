// The arms of reflection.md §4.8 for one prompt and seed, at equal footing: round 0 alone, the loop, best-of-N picked
// by the same critic, and optionally best-of-N followed by the loop. Round 0 of the loop is the round-0 arm's image
// (same seed and parameters), and it is best-of-N's first candidate, so no image is made twice.
import { createHash } from 'node:crypto';
import type { RgbImage } from '../../src-main/engine/image/rgb-image.ts';
import type { GenerationParams } from '../../src-main/engine/pipeline/generate.ts';
import {
  compareScores,
  linkDependencies,
  roundSeed,
  runReflection,
  scoreChecks,
  scoreOf,
  type CheckResult,
  type Critic,
  type RoundGenerator,
  type RoundScore,
} from '../../src-main/engine/pipeline/reflection.ts';
import { criticChecks, type EvalPrompt } from './spec.ts';

export type ArmName = 'round0' | 'loop' | 'best-of-n' | 'best-of-n+loop';
export const ARM_NAMES: readonly ArmName[] = ['round0', 'loop', 'best-of-n', 'best-of-n+loop'];

export interface ArmResult {
  readonly arm: ArmName;
  readonly rgb: RgbImage;
  readonly png: Uint8Array;
  /** Images generated to reach this result (§4.8 "images used per prompt"). */
  readonly imagesUsed: number;
  readonly ms: number;
  /** Loop arms: why the loop stopped and the modes of its rounds. */
  readonly loop?: { readonly stopReason: string; readonly modes: readonly string[] };
}

export interface ArmSettings {
  readonly critic: Critic;
  readonly generator: RoundGenerator;
  readonly params: GenerationParams;
  readonly negative: string;
  readonly maxRevisions: number;
  readonly threshold: number;
  /** N of best-of-N: the loop's image budget, 1 + max revisions, by default. */
  readonly bestOf: number;
  readonly arms: ReadonlySet<ArmName>;
}

interface Candidate {
  rgb: RgbImage;
  png: Uint8Array;
  results: CheckResult[];
  score: RoundScore;
  ms: number;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function runArms(p: EvalPrompt, seed: number, s: ArmSettings): Promise<ArmResult[]> {
  const params = { ...s.params, seed };
  const checklist = criticChecks(p);
  const base = {
    prompt: p.prompt,
    negative: s.negative,
    sources: [],
    generation: params,
    threshold: s.threshold,
    force: [],
    checklist,
  };
  const out: ArmResult[] = [];

  // The loop (or round 0 alone when the loop is not asked for): round images arrive with the round events.
  const pngs = new Map<string, { png: Uint8Array; rgb: RgbImage }>();
  const started = performance.now();
  const loop = await runReflection(
    { ...base, maxRevisions: s.arms.has('loop') ? s.maxRevisions : 0 },
    { critic: s.critic, generator: recording(s.generator, pngs) },
  );
  const loopMs = performance.now() - started;
  const round0 = loop.rounds[0]!;
  const image0 = pngs.get(round0.outputImage!)!;
  if (s.arms.has('round0')) out.push({ arm: 'round0', ...image0, imagesUsed: 1, ms: round0.timings.generateMs ?? 0 });
  if (s.arms.has('loop')) {
    const best = loop.rounds.find((r) => r.id === loop.bestRoundId)!;
    out.push({
      arm: 'loop',
      ...pngs.get(best.outputImage!)!,
      imagesUsed: loop.rounds.length,
      ms: loopMs,
      loop: { stopReason: loop.stopReason, modes: loop.rounds.map((r) => r.mode) },
    });
  }
  if (!s.arms.has('best-of-n') && !s.arms.has('best-of-n+loop')) return out;

  // Best-of-N by the same critic: candidate k has seed + k (candidate 0 is round 0).
  const checks = linkDependencies(checklist);
  const candidates: Candidate[] = [];
  for (let k = 0; k < s.bestOf; k++) {
    const t = performance.now();
    const made =
      k === 0
        ? image0
        : await s.generator.generate({
            prompt: p.prompt,
            negative: s.negative,
            images: [],
            params: { ...params, seed: roundSeed(seed, k) },
          });
    const inspection = await s.critic.inspect({ prompt: p.prompt, result: made.rgb, source: null });
    const results = await scoreChecks(inspection, checks, s.threshold);
    inspection.release();
    candidates.push({
      rgb: made.rgb,
      png: made.png,
      results,
      score: scoreOf(results),
      ms: (k === 0 ? (round0.timings.generateMs ?? 0) : 0) + performance.now() - t,
    });
  }
  const best = candidates.reduce((a, c) => (compareScores(c.score, a.score) > 0 ? c : a));
  const bestMs = candidates.reduce((sum, c) => sum + c.ms, 0);
  if (s.arms.has('best-of-n'))
    out.push({ arm: 'best-of-n', rgb: best.rgb, png: best.png, imagesUsed: s.bestOf, ms: bestMs });

  if (s.arms.has('best-of-n+loop')) {
    const t = performance.now();
    const more = new Map<string, { png: Uint8Array; rgb: RgbImage }>();
    const from = {
      path: [
        {
          id: 'best-of-n',
          index: 0,
          mode: 'generate' as const,
          text: p.prompt,
          results: best.results,
          score: best.score,
          escalated: false,
        },
      ],
      image: { rgb: best.rgb, hash: sha256(best.png) },
      fix: null,
    };
    const after = await runReflection(
      { ...base, maxRevisions: s.maxRevisions },
      { critic: s.critic, generator: recording(s.generator, more) },
      {},
      from,
    );
    const chosen = after.rounds.find((r) => r.id === after.bestRoundId);
    const image = chosen ? more.get(chosen.outputImage!)! : best;
    out.push({
      arm: 'best-of-n+loop',
      rgb: image.rgb,
      png: image.png,
      imagesUsed: s.bestOf + after.rounds.length,
      ms: bestMs + performance.now() - t,
      loop: { stopReason: after.stopReason, modes: after.rounds.map((r) => r.mode) },
    });
  }
  return out;
}

/** Keeps every generated image by its hash, as the round records name them. */
function recording(generator: RoundGenerator, into: Map<string, { png: Uint8Array; rgb: RgbImage }>): RoundGenerator {
  return {
    async generate(request, options) {
      const made = await generator.generate(request, options);
      into.set(sha256(made.png), made);
      return made;
    },
  };
}
