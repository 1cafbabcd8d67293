import { encodePng } from '../../image/encode-png.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import { generateImage, type GenerationParams } from '../generate.ts';
import type { OpenModel } from '../model-set.ts';

/** One image for a round: text-to-image or edit, by the inputs given (reflection.md §4.5). */
export interface RoundRequest {
  readonly prompt: string;
  readonly negative: string;
  /** The job's sources (generate, regenerate) or the parent's output (edit). */
  readonly images: readonly RgbImage[];
  readonly params: GenerationParams;
}

export interface GeneratedRound {
  readonly rgb: RgbImage;
  /** The image as PNG, whose sha256 names it in the round records. */
  readonly png: Uint8Array;
}

export interface GenerateRoundOptions {
  readonly signal?: AbortSignal;
  readonly onStep?: (step: number, steps: number) => void;
}

/** The generator behind the loop; tests script it. */
export interface RoundGenerator {
  generate(request: RoundRequest, options?: GenerateRoundOptions): Promise<GeneratedRound>;
}

/** The OmniGen2 pipeline of an open model folder (§5.11): the same path as a plain generation job. */
export class PipelineGenerator implements RoundGenerator {
  constructor(private readonly model: OpenModel) {}

  async generate(request: RoundRequest, options: GenerateRoundOptions = {}): Promise<GeneratedRound> {
    const prompt = await this.model.encodePrompt(request.prompt);
    const negative = request.params.textGuidance > 1 ? await this.model.encodePrompt(request.negative) : null;
    const [dit, vae] = await Promise.all([this.model.dit(), this.model.vae()]);
    const result = await generateImage(
      dit,
      vae,
      { prompt, negative, images: request.images, params: request.params },
      {
        signal: options.signal,
        onProgress: (p) => {
          if (p.stage === 'denoising') options.onStep?.(p.step, p.steps);
        },
      },
    );
    const png = await encodePng(result.rgb);
    return { rgb: result.rgb, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength) };
  }
}
