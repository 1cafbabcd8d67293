import type { AtelierApi } from '../../../../src-main/ipc/contract.ts';
import { HistoryState, type HistoryItem } from '../history/history-state.svelte.ts';
import { GenerationQueue } from '../jobs/generation-queue.svelte.ts';
import { ProbeRunner } from '../jobs/probe-runner.svelte.ts';
import { ModelsState } from '../models/models-state.svelte.ts';
import { ImageStore, type ImageCodec } from '../workspace/image-store.ts';
import { parametersOf } from '../workspace/parameters.ts';
import { WorkspaceState } from '../workspace/workspace-state.svelte.ts';
import { AppState } from './app-state.svelte.ts';
import type { Command } from './shortcuts.ts';

/**
 * The renderer's composition root: builds each state class once, connects their subscriptions in one place, and
 * holds the few actions that span several of them (generate, re-run, send a result back to the workspace).
 */
export class Studio {
  readonly app: AppState;
  readonly images: ImageStore;
  readonly workspace: WorkspaceState;
  readonly history = new HistoryState();
  readonly queue: GenerationQueue;
  readonly models: ModelsState;
  readonly probe: ProbeRunner;
  /** What the canvas shows: the inputs being prepared, or the latest run (its progress, then its result). */
  canvas = $state<'inputs' | 'result'>('inputs');
  /** Why Generate is disabled, in the user's words; null when it can run. */
  readonly generateBlocker = $derived.by(() => {
    if (!this.models.loaded) return 'Checking the installed models…';
    if (!this.models.ready) return 'No model is installed yet. Open Models to download or import OmniGen2.';
    return this.workspace.blocker;
  });

  constructor(api: AtelierApi, codec: ImageCodec) {
    this.app = new AppState(api);
    this.images = new ImageStore(codec);
    this.workspace = new WorkspaceState(this.images);
    this.queue = new GenerationQueue(api, this.images, this.history);
    this.models = new ModelsState(api);
    this.probe = new ProbeRunner(api);
  }

  /** The app's one subscription point: App.svelte runs it in its single $effect. */
  connect(): () => void {
    const offs = [this.app.connect(), this.queue.connect(), this.models.connect(), this.probe.connect()];
    return () => offs.forEach((off) => off());
  }

  /** Files from the picker, a drop or the clipboard; the canvas turns to the inputs to show them. */
  addFiles(files: readonly File[]): void {
    if (files.length === 0) return;
    this.canvas = 'inputs';
    void this.workspace.addFiles(files);
  }

  async generate(): Promise<void> {
    const model = this.models.ready;
    if (this.generateBlocker !== null || !model) return;
    const spec = this.workspace.spec();
    this.workspace.submitted();
    this.canvas = 'result';
    await this.queue.submit(model.folder, spec);
  }

  /** The same recipe, seed and inputs again: on the same model while it is installed, else on the ready one. */
  async rerun(item: HistoryItem): Promise<void> {
    const model = this.models.installed.find((m) => m.folder === item.model && m.state === 'ready') ?? this.models.ready;
    if (!model) { this.app.view = 'models'; return; }
    const { prompt, negativePrompt, seed, imageGuidance } = item.recipe;
    this.app.view = 'workspace';
    this.canvas = 'result';
    await this.queue.submit(model.folder, {
      recipe: { ...parametersOf(item.recipe), prompt, negativePrompt, seed, imageGuidance }, inputs: [...item.inputs], mode: item.mode,
    });
  }

  /** Multi-turn editing: the result becomes the image to edit ('replace') or one more input ('add'). */
  useResult(item: HistoryItem, how: 'replace' | 'add'): void {
    this.workspace.useImage(item.image, how, `Result of “${item.recipe.prompt.slice(0, 40)}”`);
    this.app.view = 'workspace';
    this.canvas = 'inputs';
  }

  /** Loads a result's settings into the workspace without running it. */
  openRecipe(item: HistoryItem): void {
    this.workspace.applyRecipe(item.recipe, item.inputs, item.mode);
    this.app.view = 'workspace';
    this.canvas = 'inputs';
  }

  /** Workspace commands act only while the workspace is on screen; cancel and view switches act anywhere. */
  execute(command: Command): void {
    const onWorkspace = this.app.view === 'workspace';
    if (!onWorkspace && command.kind !== 'cancel' && command.kind !== 'view') return;
    switch (command.kind) {
      case 'generate': void this.generate(); break;
      case 'cancel': void this.queue.cancelCurrent(); break;
      case 'undo': this.workspace.undo(); break;
      case 'redo': this.workspace.redo(); break;
      case 'mode': this.workspace.setMode(command.mode); break;
      case 'view': this.app.view = command.view; break;
    }
  }
}
