import { CancelledError } from '../../../../../src-main/engine/cancellation.ts';
import { rgbImage, type RgbImage } from '../../../../../src-main/engine/image/rgb-image.ts';
import type { GenerationParams } from '../../../../../src-main/engine/pipeline/generate.ts';
import type {
  Critic,
  CritiqueView,
  Inspection,
  RoundGenerator,
  RoundRequest,
} from '../../../../../src-main/engine/pipeline/reflection.ts';

/**
 * A scripted critic: each generated image carries its number n (0, 1, …) in its first pixel, and `answers(n)`
 * gives p_yes per question for it (questions it omits answer 0.9). `fixes(n)` is the raw fix reply for image n.
 */
export class ScriptedCritic implements Critic {
  readonly asked: { image: number; question: string }[] = [];
  readonly fixRequests: { image: number; failed: readonly string[] }[] = [];
  readonly checklistRequests: string[] = [];

  constructor(
    private readonly answers: (image: number) => Partial<Record<string, number>>,
    private readonly fixes: (image: number) => string = () => 'no fix',
    private readonly checklistReply = '',
  ) {}

  async listChecks(request: string): Promise<string> {
    this.checklistRequests.push(request);
    return this.checklistReply;
  }

  async inspect(view: CritiqueView): Promise<Inspection> {
    const image = imageNumber(view.result);
    return {
      pYes: async (question) => {
        this.asked.push({ image, question });
        return this.answers(image)[question] ?? 0.9;
      },
      writeFix: async (failed) => {
        this.fixRequests.push({ image, failed });
        return this.fixes(image);
      },
      release: () => {},
    };
  }
}

export const imageNumber = (image: RgbImage) => image.data[0]!;

/** Makes image n on its n-th call (a 2×1 image whose first pixel is n), recording each request. */
export class ScriptedGenerator implements RoundGenerator {
  readonly requests: RoundRequest[] = [];
  /** Called before image n is returned (e.g. to accept or cancel mid-round). */
  onGenerate: (n: number, signal: AbortSignal | undefined) => void = () => {};

  async generate(
    request: RoundRequest,
    options: { signal?: AbortSignal; onStep?: (step: number, steps: number) => void } = {},
  ) {
    const n = this.requests.length;
    this.requests.push(request);
    this.onGenerate(n, options.signal);
    if (options.signal?.aborted) throw new CancelledError('generation');
    options.onStep?.(1, 1);
    return { rgb: rgbImage(2, 1, Uint8Array.of(n, 0, 0, 0, 0, 0)), png: Uint8Array.of(0x89, n) };
  }
}

export const PARAMS: GenerationParams = {
  steps: 4,
  textGuidance: 5,
  imageGuidance: 2,
  cfgRange: [0, 1],
  scheduler: 'euler',
  width: 64,
  height: 64,
  maxPixels: 64 * 64,
  maxSideLength: 64,
  seed: 100,
};
