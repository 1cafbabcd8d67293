import { t } from '../i18n/i18n.svelte.ts';
import type { CropRect, GenerateRequest, ImageHash, Recipe } from '../../../../src-main/ipc/contract.ts';
import type { Notice } from '../shell/error-messages.ts';
import type { ImageStore, StoredImage } from './image-store.ts';
import {
  DEFAULT_PARAMETERS,
  IMAGE_GUIDANCE,
  LIMITS,
  OFFICIAL_NEGATIVE_PROMPT,
  clampTo,
  modeFor,
  parametersOf,
  preprocessedSize,
  randomSeed,
  type Mode,
  type NumericParameter,
  type Parameters,
} from './parameters.ts';
import { MAX_INPUTS, referencedImages } from './prompt-guide.ts';
import { UndoHistory } from './undo-history.svelte.ts';

export interface InputImage {
  /** Stable per card: keys the list, drag and drop, and focus. */
  id: string;
  name: string;
  /** The image as added. */
  source: ImageHash;
  /** In `source` pixels; null = the whole image. */
  crop: CropRect | null;
  /** What is sent: the crop's PNG, or `source`. */
  image: ImageHash;
  width: number;
  height: number;
}

/** Everything undo and redo cover. Immutable: each edit makes a new document, so a snapshot is a reference. */
export interface WorkspaceDoc {
  inputs: readonly InputImage[];
  prompt: string;
  negativePrompt: string;
  params: Parameters;
  modeOverride: Mode | null;
  /** null: the recommended value of the current mode. */
  imageGuidance: number | null;
}

/** What one Generate press asks for, before the model is chosen. */
export interface GenerationSpec {
  recipe: GenerateRequest['recipe'];
  inputs: ImageHash[];
  mode: Mode;
}

// The official scripts and demo pass their negative prompt by default (§2.1), so the workspace starts with it too.
const EMPTY: WorkspaceDoc = {
  inputs: [],
  prompt: '',
  negativePrompt: OFFICIAL_NEGATIVE_PROMPT,
  params: DEFAULT_PARAMETERS,
  modeOverride: null,
  imageGuidance: null,
};

/** The workspace being edited: inputs, prompt and parameters, with undo. Pure state; no IPC. */
export class WorkspaceState {
  doc = $state.raw<WorkspaceDoc>(EMPTY);
  /** The seed of the next run; outside undo so that undoing an edit never brings back a seed already used. */
  seed = $state(randomSeed());
  seedLocked = $state(false);
  /** Images being read or cropped. */
  pending = $state(0);
  notice = $state<Notice | null>(null);
  readonly undoHistory = new UndoHistory<WorkspaceDoc>();
  /** Called after every edit a project file keeps (the Studio autosaves on it); loading calls it not. */
  onChange: () => void = () => {};

  readonly autoMode = $derived(modeFor(this.doc.inputs.length));
  readonly mode = $derived(this.doc.modeOverride ?? this.autoMode);
  readonly sentInputs = $derived(this.mode === 'text-to-image' ? [] : this.doc.inputs);
  readonly imageGuidance = $derived(
    this.mode === 'text-to-image' ? 1 : (this.doc.imageGuidance ?? IMAGE_GUIDANCE[this.mode].default),
  );
  /** §5.3: exactly one input image fixes the output size; otherwise the requested size is kept. */
  readonly outputSize = $derived.by(() => {
    const only = this.sentInputs.length === 1 ? this.sentInputs[0]! : null;
    if (!only) return { width: this.doc.params.width, height: this.doc.params.height, fromImage: false };
    return {
      ...preprocessedSize(only.width, only.height, this.doc.params.maxPixels, this.doc.params.maxSideLength),
      fromImage: true,
    };
  });
  readonly references = $derived(referencedImages(this.doc.prompt));
  readonly missingReferences = $derived(
    this.mode === 'text-to-image' ? [] : this.references.filter((n) => n > this.doc.inputs.length),
  );
  /** Why Generate cannot run yet, in the user's words; null when it can. */
  readonly blocker = $derived.by(() => {
    if (this.pending > 0) return t('blocker.reading');
    if (this.mode !== 'text-to-image' && this.doc.inputs.length === 0) return t('blocker.noInput');
    if (this.doc.prompt.trim() === '') return t(`blocker.blankPrompt.${this.mode}`);
    return null;
  });

  constructor(
    private readonly images: ImageStore,
    private readonly newId: () => string = () => crypto.randomUUID(),
  ) {}

  spec(): GenerationSpec {
    const { params } = this.doc;
    const recipe: GenerateRequest['recipe'] = {
      ...params,
      prompt: this.doc.prompt.trim(),
      negativePrompt: this.doc.negativePrompt,
      seed: this.seed,
      imageGuidance: this.imageGuidance,
      width: this.outputSize.width,
      height: this.outputSize.height,
    };
    return { recipe: $state.snapshot(recipe), inputs: this.sentInputs.map((i) => i.image), mode: this.mode };
  }

  /** After a run was submitted: an unlocked seed moves on, so the next press makes a new picture. */
  submitted(): void {
    if (!this.seedLocked) this.#setSeed(randomSeed());
  }

  /** A project's workspace (or, with no arguments, an empty one), without undo steps into the one before. */
  async restore(
    saved: {
      inputs: readonly { hash: ImageHash; label: string; crop: CropRect | null }[];
      doc: Omit<WorkspaceDoc, 'inputs'>;
      seed: number;
    } | null = null,
  ): Promise<void> {
    const inputs = await Promise.all(
      (saved?.inputs ?? []).map(async ({ hash, label, crop }) => {
        const input = this.#input(label, this.images.require(hash));
        if (!crop) return input;
        const image = await this.images.crop(hash, crop);
        return { ...input, crop, image: image.hash, width: image.width, height: image.height };
      }),
    );
    this.doc = saved ? { ...saved.doc, inputs } : EMPTY;
    this.seed = saved?.seed ?? randomSeed();
    this.seedLocked = false;
    this.notice = null;
    this.undoHistory.clear();
  }

  async addFiles(files: readonly File[]): Promise<void> {
    const room = MAX_INPUTS - this.doc.inputs.length;
    const accepted = files.slice(0, Math.max(0, room));
    const problems: string[] = [];
    if (files.length > accepted.length)
      problems.push(t('inputs.leftOut', { max: MAX_INPUTS, count: files.length - accepted.length }));
    this.pending++;
    try {
      const read = await Promise.allSettled(
        accepted.map(async (f) => this.images.add(new Uint8Array(await f.arrayBuffer()), f.type)),
      );
      const added: InputImage[] = [];
      read.forEach((r, i) => {
        if (r.status === 'fulfilled') added.push(this.#input(accepted[i]!.name, r.value));
        else problems.push(`${accepted[i]!.name}: ${(r.reason as Error).message}.`);
      });
      const fitting = added.slice(0, MAX_INPUTS - this.doc.inputs.length);
      if (fitting.length < added.length) problems.push(t('inputs.didNotFit', { count: added.length - fitting.length }));
      if (fitting.length > 0) this.#commit({ ...this.doc, inputs: [...this.doc.inputs, ...fitting] });
    } finally {
      this.pending--;
    }
    this.notice =
      problems.length === 0
        ? null
        : {
            title: t('inputs.notAdded.title'),
            detail: problems.join(' '),
            next: t('inputs.notAdded.next'),
          };
  }

  removeInput(id: string): void {
    this.#commit({ ...this.doc, inputs: this.doc.inputs.filter((i) => i.id !== id) });
  }

  moveInput(id: string, to: number): void {
    const from = this.doc.inputs.findIndex((i) => i.id === id);
    const target = Math.max(0, Math.min(this.doc.inputs.length - 1, to));
    if (from < 0 || from === target) return;
    const inputs = [...this.doc.inputs];
    inputs.splice(target, 0, ...inputs.splice(from, 1));
    this.#commit({ ...this.doc, inputs });
  }

  /** Applies a crop (source pixels), or removes it with null. */
  async cropInput(id: string, rect: CropRect | null): Promise<void> {
    const input = this.doc.inputs.find((i) => i.id === id);
    if (!input) return;
    const source = this.images.require(input.source);
    const whole = !rect || (rect.x <= 0 && rect.y <= 0 && rect.width >= source.width && rect.height >= source.height);
    this.pending++;
    try {
      const image = whole ? source : await this.images.crop(input.source, rect);
      if (!this.doc.inputs.some((i) => i.id === id)) return; // removed while cropping
      const cropped: InputImage = {
        ...input,
        crop: whole ? null : rect,
        image: image.hash,
        width: image.width,
        height: image.height,
      };
      this.#commit({ ...this.doc, inputs: this.doc.inputs.map((i) => (i.id === id ? cropped : i)) });
    } finally {
      this.pending--;
    }
  }

  /** Sends an image (a result) back as an input: 'replace' continues editing it, 'add' appends it. */
  useImage(hash: ImageHash, how: 'replace' | 'add', name: string): void {
    const input = this.#input(name, this.images.require(hash));
    if (how === 'replace') {
      this.#commit({ ...this.doc, inputs: [input], modeOverride: null });
      return;
    }
    if (this.doc.inputs.length >= MAX_INPUTS) {
      this.notice = { title: t('inputs.full.title'), detail: '', next: t('inputs.full.next') };
      return;
    }
    this.#commit({ ...this.doc, inputs: [...this.doc.inputs, input] });
  }

  /** Restores a recipe's settings, inputs and seed (locked, so the same picture can be refined). */
  applyRecipe(recipe: Recipe, inputs: readonly ImageHash[], mode: Mode): void {
    const restored = inputs.map((h, k) => this.#input(t('inputs.fromRecipe', { n: k + 1 }), this.images.require(h)));
    this.#commit({
      inputs: restored,
      prompt: recipe.prompt,
      negativePrompt: recipe.negativePrompt,
      params: parametersOf(recipe),
      modeOverride: mode === modeFor(restored.length) ? null : mode,
      imageGuidance: mode === 'text-to-image' ? null : recipe.imageGuidance,
    });
    this.#setSeed(recipe.seed);
    this.seedLocked = true;
  }

  /** A recipe's prompts, parameters and seed (locked), keeping the input images: what a dropped Atelier PNG restores. */
  applySettings(recipe: Recipe): void {
    this.#commit({
      ...this.doc,
      prompt: recipe.prompt,
      negativePrompt: recipe.negativePrompt,
      params: parametersOf(recipe),
      imageGuidance: this.mode === 'text-to-image' ? this.doc.imageGuidance : recipe.imageGuidance,
    });
    this.#setSeed(recipe.seed);
    this.seedLocked = true;
  }

  setPrompt(prompt: string): void {
    if (prompt !== this.doc.prompt) this.#commit({ ...this.doc, prompt }, 'prompt');
  }

  setNegativePrompt(negativePrompt: string): void {
    if (negativePrompt !== this.doc.negativePrompt) this.#commit({ ...this.doc, negativePrompt }, 'negative');
  }

  setNumber(key: NumericParameter, value: number): void {
    this.#setParams({ [key]: clampTo(LIMITS[key], value) }, key);
  }

  setSize(width: number, height: number): void {
    this.#setParams({ width: clampTo(LIMITS.width, width), height: clampTo(LIMITS.height, height) }, null);
  }

  setCfgRange(start: number, end: number): void {
    const a = clampTo(LIMITS.cfg, start);
    const b = clampTo(LIMITS.cfg, end);
    this.#setParams({ cfgRange: [Math.min(a, b), Math.max(a, b)] }, 'cfg');
  }

  setOption(patch: Pick<Partial<Parameters>, 'scheduler' | 'acceleration'>): void {
    this.#setParams(patch, null);
  }

  setImageGuidance(value: number | null): void {
    const imageGuidance = value === null ? null : clampTo(LIMITS.imageGuidance, value);
    if (imageGuidance !== this.doc.imageGuidance) this.#commit({ ...this.doc, imageGuidance }, 'image-guidance');
  }

  /** null returns to the mode the inputs suggest. */
  setMode(mode: Mode | null): void {
    const modeOverride = mode === this.autoMode ? null : mode;
    if (modeOverride !== this.doc.modeOverride) this.#commit({ ...this.doc, modeOverride });
  }

  setSeed(value: number): void {
    this.#setSeed(Number.isFinite(value) ? Math.min(2 ** 32 - 1, Math.max(0, Math.round(value))) : 0);
  }

  rerollSeed(): void {
    this.#setSeed(randomSeed());
  }

  resetParameters(): void {
    this.#commit({
      ...this.doc,
      params: DEFAULT_PARAMETERS,
      imageGuidance: null,
      negativePrompt: OFFICIAL_NEGATIVE_PROMPT,
    });
  }

  undo(): void {
    const previous = this.undoHistory.undo(this.doc);
    if (previous) {
      this.doc = previous;
      this.onChange();
    }
  }

  redo(): void {
    const next = this.undoHistory.redo(this.doc);
    if (next) {
      this.doc = next;
      this.onChange();
    }
  }

  #setParams(patch: Partial<Parameters>, key: string | null): void {
    const params = { ...this.doc.params, ...patch };
    const changed = (Object.keys(patch) as (keyof Parameters)[]).some(
      (k) => JSON.stringify(params[k]) !== JSON.stringify(this.doc.params[k]),
    );
    if (changed) this.#commit({ ...this.doc, params }, key);
  }

  #commit(next: WorkspaceDoc, coalesceKey: string | null = null): void {
    this.undoHistory.record(this.doc, coalesceKey);
    this.doc = next;
    this.onChange();
  }

  #setSeed(seed: number): void {
    if (seed === this.seed) return;
    this.seed = seed;
    this.onChange();
  }

  #input(name: string, image: StoredImage): InputImage {
    return {
      id: this.newId(),
      name,
      source: image.hash,
      crop: null,
      image: image.hash,
      width: image.width,
      height: image.height,
    };
  }
}
