/**
 * The critic on OmniGen2's own MLLM in understanding mode (reflection.md §4.1, §4.3): stock Qwen system turn,
 * image(s) first, one prefill of the shared prefix (system + images + intro) per round, then one short forward
 * per question from its KV cache, reading only the first answer position's logits. `<|img|>` is masked in every
 * call, so the critic can never start an image.
 */
import { CancelledError } from '../../cancellation.ts';
import { QWEN_IMAGE_DEFAULTS, preprocessForQwen, type QwenImageOptions } from '../../image/qwen-preprocess.ts';
import { resizeRgb } from '../../image/resample.ts';
import type { RgbImage } from '../../image/rgb-image.ts';
import type { QwenTextModel, TextForwardOutput } from '../../models/qwen-text.ts';
import { continuationPositionIds, mropePositionIds, textPositionIds, type PatchGrid } from '../../sampling/mrope.ts';
import type { PromptPart } from '../../text/chat-template.ts';
import { CHAT_STOP_TOKENS, QWEN_SYSTEM_PROMPT, conversationPrompt, expandImagePads } from '../../text/prompts.ts';
import { SPECIAL_TOKENS } from '../../text/special-tokens.ts';
import type { Tokenizer } from '../../text/tokenizer.ts';
import { spliceImageRows, type ImageEmbedder } from '../chat.ts';
import {
  critiqueIntro,
  fixRequest,
  questionTurn,
  yesProbability,
  type AnswerTokens,
  type Critic,
  type CritiqueView,
  type Inspection,
} from './critic.ts';

/** The MLLM parts a critic runs on; the text decoder is the one prompt encoding already holds (model-set.ts). */
export interface CriticModels {
  readonly tokenizer: Tokenizer;
  readonly text: QwenTextModel;
  vision(): Promise<ImageEmbedder>;
}

export interface ModelCriticOptions {
  /** Critique images are downscaled to this long side (§4.3: ~768 px ≈ 750 visual tokens instead of ≈ 1.3k). */
  readonly longSide?: number;
  readonly imageOptions?: QwenImageOptions;
  /** Token budgets: the fix line (§4.4: ≤ 48) and the checklist reply (8 short lines). */
  readonly fixTokens?: number;
  readonly checklistTokens?: number;
}

/** An inspection that also answers free questions (the evaluation judge's "How many cups? Answer with a number."). */
export interface ModelInspection extends Inspection {
  /** The greedy reply to `question` about the image(s), at most `maxNewTokens` tokens, `<|img|>` masked. */
  answer(question: string, maxNewTokens: number, signal?: AbortSignal): Promise<string>;
}

const DEFAULTS = { longSide: 768, imageOptions: QWEN_IMAGE_DEFAULTS, fixTokens: 48, checklistTokens: 192 };
const SYSTEM = { role: 'system', content: QWEN_SYSTEM_PROMPT } as const;

/** First-token ids of Yes/yes/No/no. The real tokenizer has each as one token; a byte-level toy one starts them with Y/y/N/n. */
export function answerTokens(tokenizer: Tokenizer): AnswerTokens {
  const img = tokenizer.hasSpecialToken(SPECIAL_TOKENS.img) ? tokenizer.specialTokenId(SPECIAL_TOKENS.img) : -1;
  const first = (forms: string[]) => [...new Set(forms.map((f) => tokenizer.encode(f)[0]!))].filter((id) => id !== img);
  const yes = first(['Yes', 'yes']);
  const no = first(['No', 'no']);
  if (yes.length === 0 || no.length === 0 || yes.some((id) => no.includes(id))) {
    throw new RangeError(`the tokenizer in ${tokenizer.source} cannot tell Yes from No by their first token`);
  }
  return { yes, no };
}

export class ModelCritic implements Critic {
  private constructor(
    readonly answers: AnswerTokens,
    private readonly tokenizer: Tokenizer,
    /** Called before each MLLM call, so that a memory mode frees the DiT and VAE first (model-set.ts). */
    private readonly models: () => Promise<CriticModels>,
    private readonly options: typeof DEFAULTS,
  ) {}

  static async create(models: () => Promise<CriticModels>, options: ModelCriticOptions = {}): Promise<ModelCritic> {
    const { tokenizer } = await models();
    return new ModelCritic(answerTokens(tokenizer), tokenizer, models, { ...DEFAULTS, ...options });
  }

  /** A text-only turn (§4.2 checklist request), decoded greedily. */
  async listChecks(request: string, signal?: AbortSignal): Promise<string> {
    const { text: model } = await this.models();
    const text = conversationPrompt([SYSTEM, { role: 'user', content: request }], {
      addGenerationPrompt: true,
      labelImages: false,
    }).text;
    const ids = this.tokenizer.encode(text);
    this.checkCancel(signal);
    const first = await model.forward({ embeds: model.embed(ids), positions: textPositionIds(ids.length) });
    return this.decode(model, first, 0, this.options.checklistTokens, signal);
  }

  async inspect(view: CritiqueView, signal?: AbortSignal): Promise<ModelInspection> {
    const { tokenizer } = this;
    const models = await this.models();
    const model = models.text;
    const cfg = model.config;
    const images = (view.source ? [view.source, view.result] : [view.result]).map((image) =>
      downscale(image, this.options.longSide),
    );
    const inputs = images.map((image) => preprocessForQwen(image, this.options.imageOptions));
    const grids: PatchGrid[] = inputs.map(({ gridThw: [t, h, w] }) => ({ t, h, w }));
    const intro = critiqueIntro(view);
    const parts: PromptPart[] = images.map(() => ({ type: 'image' }));
    const render = (tail: string) =>
      expandImagePads(
        conversationPrompt([SYSTEM, { role: 'user', content: [...parts, { type: 'text', text: intro + tail }] }], {
          addGenerationPrompt: true,
          labelImages: view.source !== null,
        }).text,
        grids,
        cfg.spatialMergeSize,
      );
    const sample = render('');
    const afterImages = sample.lastIndexOf(SPECIAL_TOKENS.visionEnd) + SPECIAL_TOKENS.visionEnd.length;
    const prefixIds = tokenizer.encode(sample.slice(0, sample.indexOf(intro, afterImages) + intro.length));

    this.checkCancel(signal);
    const vision = await models.vision();
    const rows = await vision.embedImages(inputs);
    const layout = { imageTokenId: cfg.imageTokenId, spatialMergeSize: cfg.spatialMergeSize };
    const prompt = (ids: readonly number[]) => {
      const embeds = model.embed(ids);
      spliceImageRows(embeds, ids, cfg.imageTokenId, rows, cfg.hiddenSize);
      return { embeds, positions: mropePositionIds(ids, grids, layout) };
    };
    this.checkCancel(signal);
    const prefixInput = prompt(prefixIds);
    let prefix: TextForwardOutput | null = await model.forward(prefixInput);
    const ropeDelta = prefixInput.positions.ropeDelta;

    /** The first answer position for `tail`: from the prefix cache when the tokens line up, else one full prefill. */
    const answerStep = async (tail: string): Promise<TextForwardOutput> => {
      const ids = tokenizer.encode(render(tail));
      const P = prefixIds.length;
      this.checkCancel(signal);
      if (prefix && ids.length > P && prefixIds.every((id, i) => ids[i] === id)) {
        const suffix = ids.slice(P);
        return model.forward({
          embeds: model.embed(suffix),
          positions: continuationPositionIds(P, suffix.length, ropeDelta),
          cache: prefix.cache,
        });
      }
      return model.forward(prompt(ids));
    };

    const answer = async (question: string, maxNewTokens: number, callSignal?: AbortSignal) =>
      this.decode(model, await answerStep(question), ropeDelta, maxNewTokens, callSignal ?? signal);
    return {
      pYes: async (question) =>
        yesProbability(this.masked(model, (await answerStep(questionTurn(question))).logits), this.answers),
      writeFix: (failed, fixSignal) => answer(fixRequest(failed), this.options.fixTokens, fixSignal),
      answer,
      release: () => {
        prefix = null;
      },
    };
  }

  /** Greedy decoding from a first step, `<|img|>` masked, until a stop token or `max` tokens; special tokens dropped. */
  private async decode(
    model: QwenTextModel,
    first: TextForwardOutput,
    ropeDelta: number,
    max: number,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const stops = this.stopIds();
    const tokens: number[] = [];
    let step = first;
    for (;;) {
      const logits = this.masked(model, step.logits);
      let token = 0;
      for (let id = 1; id < logits.length; id++) if (logits[id]! > logits[token]!) token = id;
      if (stops.has(token)) break;
      tokens.push(token);
      if (tokens.length >= max) break;
      this.checkCancel(signal);
      step = await model.forward({
        embeds: model.embed([token]),
        positions: continuationPositionIds(step.cache.length, 1, ropeDelta),
        cache: step.cache,
      });
    }
    return tokens.length === 0 ? '' : this.tokenizer.decode(tokens, { skipSpecialTokens: true }).trim();
  }

  /** The ids that end a reply: the chat stop strings the tokenizer knows (§7.1). */
  private stopIds(): ReadonlySet<number> {
    return new Set(
      CHAT_STOP_TOKENS.filter((t) => this.tokenizer.hasSpecialToken(t)).map((t) => this.tokenizer.specialTokenId(t)),
    );
  }

  /** The last position's logits with `<|img|>` at −∞ (§4.3). */
  private masked(model: QwenTextModel, logits: Float32Array): Float32Array {
    const last = logits.slice(logits.length - model.config.vocabSize);
    if (this.tokenizer.hasSpecialToken(SPECIAL_TOKENS.img))
      last[this.tokenizer.specialTokenId(SPECIAL_TOKENS.img)] = -Infinity;
    return last;
  }

  private checkCancel(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new CancelledError('the critique');
  }
}

/** Long side ≤ `longSide`, aspect kept (Lanczos, as PIL's thumbnail would). */
function downscale(image: RgbImage, longSide: number): RgbImage {
  const long = Math.max(image.width, image.height);
  if (long <= longSide) return image;
  const scale = longSide / long;
  return resizeRgb(image, Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)), {
    filter: 'lanczos',
  });
}
