import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineError } from '../engine-error.ts';
import { DitModel } from '../models/dit.ts';
import { defaultVaeAttention, type VaeAttentionOptions } from '../models/vae.ts';
import { readGenerationDefaults, type GenerationDefaults, type QwenTextModel } from '../models/qwen-text.ts';
import { QwenVisionModel } from '../models/qwen-vision.ts';
import { ProviderSelector } from '../onnx/provider-selector.ts';
import { executionProvidersFor, type ExecutionProvider, type ProviderRequest } from '../onnx/providers.ts';
import { componentPrecision, type Precision } from '../onnx/precision.ts';
import type { SessionOptions } from '../onnx/session.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { readImageOptions, type ChatPromptParts } from './chat.ts';
import { TextConditioner } from './conditioning.ts';
import type { LatentCodec, PromptEmbedding } from './generate.ts';
import { LatentPreviewer } from './latent-preview.ts';
import { LOW_MEMORY_VAE_QUERY_CHUNKS, type MemoryMode } from './memory-mode.ts';
import { loadVaeCodec } from './vae-codec.ts';

type Codec = LatentCodec & { release(): Promise<void> };

/** How every component of a job is loaded. */
export interface ComponentRuntime {
  readonly provider: ExecutionProvider;
  readonly mode: MemoryMode;
  readonly session: SessionOptions;
  readonly vaeAttention: VaeAttentionOptions;
  /** What the graphs compute in: fp32 on the CPU, fp16-mixed on GPU providers (measured policy, onnx/precision.ts). */
  readonly precision: Precision;
  /** Where converted weights go (weights/cache-location.ts); absent: inside the model folder. */
  readonly weightCacheDir?: string;
}

export function componentRuntime(provider: ExecutionProvider, mode: MemoryMode): ComponentRuntime {
  const executionProviders = executionProvidersFor(provider);
  const vaeAttention = defaultVaeAttention(executionProviders);
  const precision: Precision = provider === 'cpu' ? 'fp32' : 'fp16-mixed';
  if (mode !== 'low-memory') return { provider, mode, session: { executionProviders }, vaeAttention, precision };
  // Prepacking keeps a second, repacked copy of every CPU MatMul weight (peak 2×, tech-notes.md §1.4).
  return {
    provider,
    mode,
    session: { executionProviders, disablePrepacking: true },
    vaeAttention: { ...vaeAttention, queryChunks: LOW_MEMORY_VAE_QUERY_CHUNKS },
    precision,
  };
}

/** Prompt embeddings kept per open model: a repeated prompt must not reload the MLLM in one-at-a-time mode. */
const PROMPT_CACHE_SIZE = 16;

/**
 * The components of one model folder, loaded on first use. What stays loaded follows the memory mode
 * (memory-mode.ts): each accessor is called just before its component runs and frees the sessions that must
 * not share memory with it. A freed component keeps its built graphs and recreates its sessions on next use.
 */
export class OpenModel {
  #dit?: Promise<DitModel>;
  #vae?: Promise<Codec>;
  #text?: Promise<TextConditioner>;
  #previewer?: Promise<LatentPreviewer>;
  #vision?: Promise<QwenVisionModel>;
  #chatSettings?: Pick<ChatPromptParts, 'imageOptions'> & { defaults: GenerationDefaults };
  readonly #prompts = new Map<string, PromptEmbedding>();

  constructor(
    readonly dir: string,
    private runtimeNow: ComponentRuntime = componentRuntime('cpu', 'all-resident'),
  ) {}

  get runtime(): ComponentRuntime {
    return this.runtimeNow;
  }

  /** Switching between modes that load sessions alike needs no reload (ModelSet reopens otherwise). */
  setMode(mode: MemoryMode): void {
    this.runtimeNow = { ...this.runtimeNow, mode };
  }

  /** The DiT; outside all-resident mode the MLLM is freed first (its prompts are encoded by now). */
  async dit(): Promise<DitModel> {
    if (this.runtimeNow.mode !== 'all-resident') await this.releaseMllm();
    this.#dit ??= this.load('transformer', () =>
      DitModel.load(this.dir, {
        session: this.runtimeNow.session,
        precision: componentPrecision('transformer', this.runtimeNow.precision),
        weightCacheDir: this.runtimeNow.weightCacheDir,
      }),
    );
    return this.#dit;
  }

  /** Outside all-resident mode each encode/decode loads the VAE and frees it again (low-memory: the DiT too). */
  async vae(): Promise<LatentCodec> {
    const codec = await this.codec();
    if (this.runtimeNow.mode === 'all-resident') return codec;
    return {
      latentChannels: codec.latentChannels,
      encode: (image, size) => this.withVae(codec, () => codec.encode(image, size)),
      decode: (latent) => this.withVae(codec, () => codec.decode(latent)),
    };
  }

  previewer(): Promise<LatentPreviewer> {
    this.#previewer ??= this.codec().then((codec) => this.withVae(codec, () => LatentPreviewer.fit(codec)));
    return this.#previewer;
  }

  /** The MLLM's conditioning for a prompt (§2.1); the same template serves negative prompts. */
  async encodePrompt(prompt: string): Promise<PromptEmbedding> {
    const known = this.#prompts.get(prompt);
    if (known) {
      this.#prompts.delete(prompt); // re-insert: Map order is the recency order
      this.#prompts.set(prompt, known);
      return known;
    }
    const c = await (await this.conditioner()).encodePrompt(prompt);
    const embedding = { hidden: c.hiddenStates, length: c.length };
    this.#prompts.set(prompt, embedding);
    while (this.#prompts.size > PROMPT_CACHE_SIZE) this.#prompts.delete(this.#prompts.keys().next().value!);
    return embedding;
  }

  /**
   * The MLLM for understanding calls (reflection critiques, reflection.md §4.1): the tokenizer and text decoder
   * prompt encoding holds, so one copy sits in memory, and the vision tower, loaded on first use.
   */
  async mllm(): Promise<{ tokenizer: Tokenizer; text: QwenTextModel; vision: () => Promise<QwenVisionModel> }> {
    const { tokenizer, model } = await this.conditioner();
    const vision = () => {
      const mllmDir = join(this.dir, 'mllm');
      this.#vision ??= this.load('mllm', () =>
        QwenVisionModel.load(mllmDir, mllmDir, { session: this.runtimeNow.session }),
      );
      return this.#vision;
    };
    return { tokenizer, text: model, vision };
  }

  /** The MLLM as chat uses it (chat.ts, chat-conditioning.ts): prompt parts, the vision tower, decoding defaults. */
  async chatParts(): Promise<
    ChatPromptParts & { vision: () => Promise<QwenVisionModel>; defaults: GenerationDefaults }
  > {
    const { tokenizer, text, vision } = await this.mllm();
    this.#chatSettings ??= {
      defaults: readGenerationDefaults(join(this.dir, 'mllm')),
      imageOptions: readImageOptions(join(this.dir, 'processor')),
    };
    return {
      tokenizer,
      model: text,
      vision,
      ...this.#chatSettings,
      embedImages: async (inputs) => (await vision()).embedImages(inputs),
    };
  }

  async release(): Promise<void> {
    const loaded = [this.#dit, this.#vae, this.#text, this.#vision].filter((p) => p !== undefined);
    this.#dit = this.#vae = this.#text = this.#previewer = this.#vision = undefined;
    await Promise.all(loaded.map(async (p) => (await p.catch(() => null))?.release()));
  }

  /** Outside all-resident mode the DiT and the VAE are freed before the MLLM runs. */
  private async conditioner(): Promise<TextConditioner> {
    if (this.runtimeNow.mode !== 'all-resident') await Promise.all([this.releaseDit(), this.releaseLoaded(this.#vae)]);
    this.#text ??= this.load(
      'mllm',
      () =>
        TextConditioner.load(this.dir, {
          model: {
            session: this.runtimeNow.session,
            precision: componentPrecision('mllm', this.runtimeNow.precision),
            weightCacheDir: this.runtimeNow.weightCacheDir,
          },
        }),
      'processor',
    );
    return this.#text;
  }

  private codec(): Promise<Codec> {
    this.#vae ??= this.load('vae', () =>
      loadVaeCodec(this.dir, { session: this.runtimeNow.session, attention: this.runtimeNow.vaeAttention }),
    );
    return this.#vae;
  }

  private async withVae<T>(codec: Codec, call: () => Promise<T>): Promise<T> {
    if (this.runtimeNow.mode === 'low-memory') await this.releaseDit();
    try {
      return await call();
    } finally {
      if (this.runtimeNow.mode !== 'all-resident') await codec.release();
    }
  }

  private releaseDit(): Promise<void> {
    return this.releaseLoaded(this.#dit);
  }

  /** Frees the text decoder's and vision tower's sessions; the conditioner keeps its tokenizer and cache. */
  private async releaseMllm(): Promise<void> {
    await Promise.all([
      this.#text?.then(
        (t) => t.model.release(),
        () => undefined,
      ),
      this.releaseLoaded(this.#vision),
    ]);
  }

  private async releaseLoaded(component: Promise<{ release(): Promise<void> }> | undefined): Promise<void> {
    await component?.then(
      (c) => c.release(),
      () => undefined,
    );
  }

  /** Loads a component, turning a missing folder into a message that says which one and what to do. */
  private load<T>(component: string, load: () => Promise<T>, ...also: string[]): Promise<T> {
    for (const folder of [component, ...also]) {
      if (!existsSync(join(this.dir, folder))) {
        return Promise.reject(
          new EngineError(
            'model-missing',
            `the model folder ${this.dir} has no ${folder}/ folder; download or import the model again`,
            { component: folder },
          ),
        );
      }
    }
    return load();
  }
}

/** What a job asks of the model set: where to run and how much to keep loaded (plain data, from the job). */
export interface RuntimeRequest {
  /** Absent: the CPU (jobs built before provider selection, tests). */
  readonly provider?: ProviderRequest;
  /** Absent: all-resident. */
  readonly memoryMode?: MemoryMode;
  /** Where converted weights go, chosen by the app for folders it does not manage; absent: inside the model folder. */
  readonly weightCacheDir?: string;
}

/** The engine host's model cache: one open model folder at a time, so two models never share the memory. */
export class ModelSet {
  #open: OpenModel | null = null;

  constructor(readonly providers: ProviderSelector = new ProviderSelector()) {}

  /**
   * The model folder on the job's provider and memory mode. A different folder, provider or session setup
   * (low-memory sessions differ) reopens it; a switch between all-resident and one-at-a-time does not.
   */
  async openFor(dir: string, request: RuntimeRequest = {}): Promise<OpenModel> {
    const provider = request.provider ? (await this.providers.select(request.provider)).provider : 'cpu';
    const runtime = componentRuntime(provider, request.memoryMode ?? 'all-resident');
    return this.open(
      dir,
      request.weightCacheDir === undefined ? runtime : { ...runtime, weightCacheDir: request.weightCacheDir },
    );
  }

  open(dir: string, runtime: ComponentRuntime = componentRuntime('cpu', 'all-resident')): OpenModel {
    const abs = resolve(dir);
    if (!existsSync(abs)) throw new EngineError('model-missing', `no model folder at ${abs}`);
    const loadsAlike = (a: ComponentRuntime) =>
      JSON.stringify([a.session, a.vaeAttention, a.weightCacheDir]) ===
      JSON.stringify([runtime.session, runtime.vaeAttention, runtime.weightCacheDir]);
    if (this.#open?.dir !== abs || !loadsAlike(this.#open.runtime)) {
      void this.#open?.release();
      this.#open = new OpenModel(abs, runtime);
    }
    this.#open.setMode(runtime.mode);
    return this.#open;
  }

  async release(): Promise<void> {
    await this.#open?.release();
    this.#open = null;
  }
}
