// The engine's reflection rounds as the project file stores them (reflection.md §4.7): contract ReflectionRounds whose
// images are PNGs with their round's recipe embedded, named by the hash of those stored bytes. Used by the app's
// reflect jobs and by `atelier reflect`.
import type {
  GeneratedImage,
  ProjectImage,
  ProjectParameters,
  ReflectionRound,
  ReflectionSession,
} from '../../ipc/contract.ts';
import { bestRound, type RoundImage, type RoundRecord, type StopReason } from '../../engine/pipeline/reflection.ts';
import { embedRecipe } from '../projects/png-recipe.ts';
import { completeRecipe, sha256Hex, type RecipeParams } from './recipe.ts';

export interface RecorderInfo {
  /** A new session's id, or the id of the session being continued. */
  readonly sessionId: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly threshold: number;
  /** Round 0's recipe: the prompt is the session's anchor; the negative prompt and acceleration apply to every round. */
  readonly recipe: RecipeParams;
  readonly modelId: string;
  readonly appVersion: string;
  /** Encoded images the engine may name as inputs: the job's sources and, when continuing, the chosen round's output.
   *  Only their hashes are kept. */
  readonly known: readonly Uint8Array[];
  /** The session being continued; its rounds come first. */
  readonly base: ReflectionSession | null;
}

export class ReflectionRecorder {
  /** Engine image hash (sha256 of the bytes it generated or was given) → the stored image's hash. */
  private readonly hashes = new Map<string, string>();
  /** This run's outputs (PNG with recipe, as job.finished reports them) by stored hash. */
  private readonly outputs = new Map<string, GeneratedImage>();
  private readonly rounds: ReflectionRound[] = [];

  constructor(private readonly info: RecorderInfo) {
    // Inputs are stored as given, so their engine hash is their stored hash.
    for (const bytes of info.known) this.hashes.set(sha256Hex(bytes), sha256Hex(bytes));
  }

  /** Maps one engine round report; `image` is the stored PNG (recipe embedded) when the report carried the output. */
  round(record: RoundRecord, image?: RoundImage): { round: ReflectionRound; image: ProjectImage | null } {
    const inputs = record.inputImages.map((h) => {
      const stored = this.hashes.get(h);
      if (stored === undefined)
        throw new Error(`reflection round ${record.id} names an input image the app was never given (${h})`);
      return stored;
    });
    let stored: ProjectImage | null = null;
    if (image && record.outputImage !== null) {
      const run = {
        seed: record.seed,
        inputImages: [],
        modelId: this.info.modelId,
        precision: 'fp32',
        appVersion: this.info.appVersion,
      };
      const recipe = { ...completeRecipe(this.recipeParams(record), run), inputImages: inputs };
      const png = embedRecipe(image.png, recipe);
      stored = { hash: sha256Hex(png), bytes: png };
      this.hashes.set(record.outputImage, stored.hash);
      this.outputs.set(stored.hash, { png, width: image.width, height: image.height, recipe });
    }
    const round = this.toRound(record, inputs);
    const at = this.rounds.findIndex((r) => r.id === round.id);
    if (at < 0) this.rounds.push(round);
    else this.rounds[at] = round;
    return { round, image: stored };
  }

  /** The output of a round of this run, by round id; null for stored rounds and unfinished ones. */
  outputOf(roundId: string | null): GeneratedImage | null {
    const hash = this.rounds.find((r) => r.id === roundId)?.outputImage;
    return (hash && this.outputs.get(hash)) || null;
  }

  /**
   * The session with this run's rounds appended. Without the engine's choice of best round (the user accepted or
   * cancelled, or the job failed, so the engine never finished) the best of this run's critiqued rounds stands
   * (§4.6: ties → earlier), else the continued session's. Stop reason null: the job failed.
   */
  session(stopReason: StopReason | null, bestRoundId?: string | null): ReflectionSession {
    const base = this.info.base;
    const ranked = this.rounds.map((r) => ({
      id: r.id,
      score: r.score && { ...r.score, meanPYes: r.score.meanProbability },
    }));
    const best = bestRoundId !== undefined ? bestRoundId : (bestRound(ranked)?.id ?? base?.bestRoundId ?? null);
    return {
      id: this.info.sessionId,
      prompt: base?.prompt ?? this.info.recipe.prompt,
      createdAt: base?.createdAt ?? this.info.createdAt,
      threshold: base?.threshold ?? this.info.threshold,
      rounds: [...(base?.rounds ?? []), ...this.rounds],
      bestRoundId: best,
      stopReason,
    };
  }

  private recipeParams(record: RoundRecord): RecipeParams {
    return { ...this.info.recipe, ...this.parameters(record), prompt: record.text };
  }

  private parameters(record: RoundRecord): ProjectParameters {
    const p = record.params;
    return {
      seed: record.seed,
      steps: p.steps,
      textGuidance: p.textGuidance,
      imageGuidance: p.imageGuidance,
      cfgRange: [p.cfgRange[0], p.cfgRange[1]],
      scheduler: p.scheduler,
      width: p.width,
      height: p.height,
      maxPixels: p.maxPixels,
      maxSideLength: p.maxSideLength,
      numImages: 1,
      acceleration: this.info.recipe.acceleration,
    };
  }

  private toRound(record: RoundRecord, inputs: readonly string[]): ReflectionRound {
    const output = record.outputImage === null ? null : (this.hashes.get(record.outputImage) ?? null);
    return {
      id: record.id,
      parentId: record.parentId,
      mode: record.mode,
      text: record.text,
      seed: record.seed,
      parameters: this.parameters(record),
      inputImages: [...inputs],
      outputImage: output,
      checklist: record.results.map((r) => ({
        question: r.check.question,
        tag: r.check.tag,
        probability: r.pYes,
        passed: r.passed,
      })),
      fix: record.fix && { raw: record.fix.raw, parsed: record.fix.parsed },
      score: record.score && {
        passed: record.score.passed,
        total: record.score.total,
        meanProbability: record.score.meanPYes,
      },
      timings: { ...record.timings },
      modelId: this.info.modelId,
    };
  }
}
