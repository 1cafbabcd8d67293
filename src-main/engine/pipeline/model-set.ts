import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EngineError } from '../host/engine-error.ts';
import { DitModel } from '../models/dit.ts';
import { TextConditioner } from './conditioning.ts';
import type { LatentCodec, PromptEmbedding } from './generate.ts';
import { LatentPreviewer } from './latent-preview.ts';
import { loadVaeCodec } from './vae-codec.ts';

/** The components of one model folder, loaded on first use and kept until another folder is opened. */
export class OpenModel {
  #dit?: Promise<DitModel>;
  #vae?: Promise<LatentCodec & { release(): Promise<void> }>;
  #text?: Promise<TextConditioner>;
  #previewer?: Promise<LatentPreviewer>;

  constructor(readonly dir: string) {}

  dit(): Promise<DitModel> {
    this.#dit ??= this.load('transformer', () => DitModel.load(this.dir));
    return this.#dit;
  }

  vae(): Promise<LatentCodec> {
    this.#vae ??= this.load('vae', () => loadVaeCodec(this.dir));
    return this.#vae;
  }

  previewer(): Promise<LatentPreviewer> {
    this.#previewer ??= this.vae().then((vae) => LatentPreviewer.fit(vae));
    return this.#previewer;
  }

  /** The MLLM's conditioning for a prompt (§2.1); the same template serves negative prompts. */
  async encodePrompt(prompt: string): Promise<PromptEmbedding> {
    this.#text ??= this.load('mllm', () => TextConditioner.load(this.dir), 'processor');
    const c = await (await this.#text).encodePrompt(prompt);
    return { hidden: c.hiddenStates, length: c.length };
  }

  async release(): Promise<void> {
    const loaded = [this.#dit, this.#vae, this.#text].filter((p) => p !== undefined);
    this.#dit = this.#vae = this.#text = this.#previewer = undefined;
    await Promise.all(loaded.map(async (p) => (await p.catch(() => null))?.release()));
  }

  /** Loads a component, turning a missing folder into a message that says which one and what to do. */
  private load<T>(component: string, load: () => Promise<T>, ...also: string[]): Promise<T> {
    for (const folder of [component, ...also]) {
      if (!existsSync(join(this.dir, folder))) {
        return Promise.reject(new EngineError('model-missing', `the model folder ${this.dir} has no ${folder}/ folder; download or import the model again`, { component: folder }));
      }
    }
    return load();
  }
}

/** The engine host's model cache: one open model folder at a time, so two models never share the memory. */
export class ModelSet {
  #open: OpenModel | null = null;

  open(dir: string): OpenModel {
    const abs = resolve(dir);
    if (!existsSync(abs)) throw new EngineError('model-missing', `no model folder at ${abs}`);
    if (this.#open?.dir !== abs) {
      void this.#open?.release();
      this.#open = new OpenModel(abs);
    }
    return this.#open;
  }

  async release(): Promise<void> {
    await this.#open?.release();
    this.#open = null;
  }
}
