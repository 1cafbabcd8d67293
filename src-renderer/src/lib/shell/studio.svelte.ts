import { t } from '../i18n/i18n.svelte.ts';
import type { AtelierApi, ChatTurnText, ReflectionSession } from '../../../../src-main/ipc/contract.ts';
import { ChatState } from '../chat/chat-state.svelte.ts';
import { HistoryState, type HistoryItem } from '../history/history-state.svelte.ts';
import { GenerationQueue } from '../jobs/generation-queue.svelte.ts';
import { ProbeRunner } from '../jobs/probe-runner.svelte.ts';
import { ModelsState } from '../models/models-state.svelte.ts';
import { ProjectState } from '../projects/project-state.svelte.ts';
import { ReflectionState } from '../reflection/reflection-state.svelte.ts';
import { ImageStore, type ImageCodec } from '../workspace/image-store.ts';
import { parametersOf } from '../workspace/parameters.ts';
import { WorkspaceState } from '../workspace/workspace-state.svelte.ts';
import { AppState } from './app-state.svelte.ts';
import type { Command, ProjectAction } from './shortcuts.ts';

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
  readonly project: ProjectState;
  readonly reflection: ReflectionState;
  readonly chat: ChatState;
  /** What the canvas shows: the inputs being prepared, the latest run (its progress, then its result), or the
   *  filmstrips of Check & refine. */
  canvas = $state<'inputs' | 'result' | 'refine' | 'chat'>('inputs');
  /** Why Generate is disabled, in the user's words; null when it can run. */
  readonly generateBlocker = $derived.by(() => {
    if (!this.models.loaded) return t('blocker.checkingModels');
    if (!this.models.ready) return t('blocker.noModel');
    return this.workspace.blocker;
  });

  constructor(
    private readonly api: AtelierApi,
    codec: ImageCodec,
  ) {
    this.app = new AppState(api);
    this.images = new ImageStore(codec);
    this.workspace = new WorkspaceState(this.images);
    this.queue = new GenerationQueue(api, this.images, this.history);
    this.models = new ModelsState(api);
    this.probe = new ProbeRunner(api);
    this.chat = new ChatState(api, this.images);
    this.project = new ProjectState(api, this.images, this.workspace, this.history, this.chat);
    this.reflection = new ReflectionState(api, this.images);
    this.reflection.onFinished = (session) => this.project.addReflection(session);
    // Every change is autosaved (main spaces the writes); a finished run is written at once.
    this.workspace.onChange = () => void this.project.autosave(false);
    this.history.onChange = (finished) => void this.project.autosave(finished);
    this.chat.onChange = (finished) => void this.project.autosave(finished);
    this.chat.onWantsPicture = (messageId) => void this.chat.drawAnswer(messageId, this.drawForChat);
    this.queue.onSettled = (job, resultIds) =>
      this.chat.drawSettled(
        job.key,
        resultIds[0]
          ? { resultId: resultIds[0] }
          : { error: job.error ?? { code: 'internal', message: 'the run made no image' } },
      );
  }

  /** Chat: the message being written, answered by the model (streamed). */
  async sendChat(): Promise<void> {
    const model = this.models.ready;
    if (!model || this.chat.busy || this.chat.draft.trim() === '') return;
    const text = this.chat.draft;
    this.chat.draft = '';
    await this.chat.send(model.folder, text, this.chatInputs);
  }

  /** Chat: "Draw this" (the message, or the last question when the box is empty) as a picture. */
  async drawInChat(): Promise<void> {
    if (!this.models.ready || this.chat.busy) return;
    const text = this.chat.draft;
    this.chat.draft = '';
    await this.chat.draw(text, this.chatInputs, this.drawForChat);
  }

  async regenerateChat(): Promise<void> {
    const model = this.models.ready;
    if (model) await this.chat.regenerate(model.folder, this.chatInputs);
  }

  /** Chat: the current conversation as Markdown with its images. */
  async exportChat(): Promise<void> {
    const c = this.chat.current;
    if (!c || c.messages.length === 0) return;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup
    const ids = new Set(c.messages.flatMap((m) => (m.resultId ? [m.resultId] : [])));
    await this.project.exportChat(
      c,
      this.history.items.filter((i) => ids.has(i.id)),
    );
  }

  /** The chat's input images: the workspace's, in the order of the input cards ("image 1…5"). */
  get chatInputs(): string[] {
    return this.workspace.spec().inputs;
  }

  /**
   * A picture for the chat (§7.1 step 3): the workspace's settings and inputs, the request as prompt, the earlier
   * turns as chat-mode conditioning (§2.2). Returns the generation queue's key, or null without a model.
   */
  readonly drawForChat = async (history: ChatTurnText[], request: string): Promise<string | null> => {
    const model = this.models.ready;
    if (!model) return null;
    const spec = this.workspace.spec();
    this.workspace.submitted();
    return this.queue.submit(model.folder, { ...spec, recipe: { ...spec.recipe, prompt: request, chat: { history } } });
  };

  /** The app's one subscription point: App.svelte runs it in its single $effect. */
  connect(): () => void {
    const offs = [
      this.app.connect(),
      this.queue.connect(),
      this.models.connect(),
      this.probe.connect(),
      this.reflection.connect(),
      this.chat.connect(),
    ];
    // A double-clicked project file, in this window: like Open, it asks first when there is unsaved work.
    offs.push(
      this.api.on('project.openRequested', ({ path }) => {
        this.app.view = 'workspace';
        this.project.openWhenStarted(path);
      }),
    );
    void this.project.start();
    return () => offs.forEach((off) => off());
  }

  /** Files from the picker, a drop or the clipboard; the canvas turns to the inputs to show them. */
  addFiles(files: readonly File[]): void {
    if (files.length === 0) return;
    this.canvas = 'inputs';
    void this.workspace.addFiles(files);
  }

  /**
   * Files dropped on the window: a project file opens; a PNG made by Atelier restores its recipe into the
   * workspace (the first one, as one workspace holds one recipe); other images become inputs.
   */
  async dropFiles(files: readonly File[]): Promise<void> {
    const project = files.find((f) => /\.atelier$/i.test(f.name));
    if (project) {
      this.project.openDropped(project);
      return;
    }
    const images: File[] = [];
    let restored: string | null = null;
    for (const file of files) {
      const recipe =
        restored === null && file.type === 'image/png'
          ? await this.project.recipeOf(new Uint8Array(await file.arrayBuffer()))
          : null;
      if (recipe) {
        this.workspace.applySettings(recipe);
        restored = file.name;
      } else {
        images.push(file);
      }
    }
    this.app.view = 'workspace';
    this.addFiles(images);
    if (restored) {
      this.project.message = {
        tone: 'info',
        notice: {
          title: t('restored.title', { name: restored }),
          detail: t('restored.detail'),
          next: t('restored.next'),
        },
      };
    }
  }

  #project(action: ProjectAction): void {
    switch (action) {
      case 'new':
        this.project.newProject();
        break;
      case 'open':
        this.project.open();
        break;
      case 'save':
        void this.project.save();
        break;
      case 'save-as':
        void this.project.saveAs();
        break;
    }
  }

  async generate(): Promise<void> {
    const model = this.models.ready;
    if (this.generateBlocker !== null || !model) return;
    const spec = this.workspace.spec();
    this.workspace.submitted();
    this.canvas = 'result';
    await this.queue.submit(model.folder, spec);
  }

  /** Check & refine (reflection.md §4): the workspace's run, checked against its prompt and revised until it passes. */
  async reflect(): Promise<void> {
    const model = this.models.ready;
    if (this.generateBlocker !== null || !model) return;
    const spec = this.workspace.spec();
    this.workspace.submitted();
    this.canvas = 'refine';
    await this.reflection.start({
      model: model.folder,
      recipe: spec.recipe,
      images: spec.inputs.map((h) => this.images.require(h).bytes),
      maxRevisions: this.reflection.maxRevisions,
      threshold: this.reflection.threshold,
      force: [],
      checklist: null,
      continueFrom: null,
    });
  }

  /** "Continue from here": more revisions branching from a stored round, with the session's prompt and inputs. */
  async continueReflection(session: ReflectionSession, roundId: string): Promise<void> {
    const model = this.models.ready;
    const round = session.rounds.find((r) => r.id === roundId);
    const first = session.rounds[0];
    const output = round?.outputImage ? this.images.get(round.outputImage) : undefined;
    if (!model || !round || !first || !output) return;
    const { seed, ...parameters } = first.parameters;
    this.app.view = 'workspace';
    this.canvas = 'refine';
    await this.reflection.start({
      model: model.folder,
      recipe: { ...parameters, seed, prompt: session.prompt, negativePrompt: this.workspace.doc.negativePrompt },
      images: first.inputImages.flatMap((h) => this.images.get(h)?.bytes ?? []),
      maxRevisions: this.reflection.maxRevisions,
      threshold: session.threshold,
      force: [],
      checklist: null,
      continueFrom: {
        session: $state.snapshot(session) as ReflectionSession,
        roundId,
        image: { hash: output.hash, bytes: output.bytes },
        fix: null,
      },
    });
  }

  /** The same recipe, seed and inputs again: on the same model while it is installed, else on the ready one. */
  async rerun(item: HistoryItem): Promise<void> {
    const model =
      this.models.installed.find((m) => m.folder === item.model && m.state === 'ready') ?? this.models.ready;
    if (!model) {
      this.app.view = 'models';
      return;
    }
    const { prompt, negativePrompt, seed, imageGuidance } = item.recipe;
    this.app.view = 'workspace';
    this.canvas = 'result';
    await this.queue.submit(model.folder, {
      // A picture drawn in a chat keeps its conversation: the same chat-mode conditioning again.
      recipe: {
        ...parametersOf(item.recipe),
        prompt,
        negativePrompt,
        seed,
        imageGuidance,
        ...(item.recipe.chat ? { chat: $state.snapshot(item.recipe.chat) } : {}),
      },
      inputs: [...item.inputs],
      mode: item.mode,
    });
  }

  /** Multi-turn editing: the result becomes the image to edit ('replace') or one more input ('add'). */
  useResult(item: HistoryItem, how: 'replace' | 'add'): void {
    this.workspace.useImage(item.image, how, t('result.inputName', { prompt: item.recipe.prompt.slice(0, 40) }));
    this.app.view = 'workspace';
    this.canvas = 'inputs';
  }

  /** Loads a result's settings into the workspace without running it. */
  openRecipe(item: HistoryItem): void {
    this.workspace.applyRecipe(item.recipe, item.inputs, item.mode);
    this.app.view = 'workspace';
    this.canvas = 'inputs';
  }

  /** Workspace commands act only while the workspace is on screen; cancel, view switches and Chat act anywhere. */
  execute(command: Command): void {
    const onWorkspace = this.app.view === 'workspace';
    if (
      !onWorkspace &&
      command.kind !== 'cancel' &&
      command.kind !== 'view' &&
      command.kind !== 'project' &&
      command.kind !== 'chat'
    )
      return;
    switch (command.kind) {
      case 'generate':
        if (this.canvas === 'chat') void this.drawInChat();
        else void this.generate();
        break;
      case 'cancel':
        if (this.canvas === 'chat' && this.chat.pending?.kind === 'answer') void this.chat.stop();
        else void this.queue.cancelCurrent();
        break;
      case 'chat':
        this.canvas = this.canvas === 'chat' && onWorkspace ? 'inputs' : 'chat';
        this.app.view = 'workspace';
        break;
      case 'undo':
        this.workspace.undo();
        break;
      case 'redo':
        this.workspace.redo();
        break;
      case 'mode':
        this.workspace.setMode(command.mode);
        break;
      case 'view':
        this.app.view = command.view;
        break;
      case 'project':
        this.#project(command.action);
        break;
    }
  }
}
