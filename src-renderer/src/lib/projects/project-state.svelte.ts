import { t } from '../i18n/i18n.svelte.ts';
import type {
  AtelierApi,
  CanvasState,
  Conversation,
  ImageHash,
  IpcError,
  OpenedProject,
  ProjectDocument,
  ProjectImage,
  Recipe,
  RecentProject,
  RecoverableProject,
  ReflectionSession,
  Result,
  SavedProject,
} from '../../../../src-main/ipc/contract.ts';
import type { ChatState } from '../chat/chat-state.svelte.ts';
import type { HistoryItem, HistoryState } from '../history/history-state.svelte.ts';
import { describeError, type Notice } from '../shell/error-messages.ts';
import type { ImageStore } from '../workspace/image-store.ts';
import type { WorkspaceState } from '../workspace/workspace-state.svelte.ts';
import { DEFAULT_CANVAS, contentOf, imagesOf, itemsOf, workspaceOf, type ProjectContent } from './project-document.ts';

type Meta = Pick<ProjectDocument, 'id' | 'createdAt' | 'modifiedAt' | 'appVersion'>;
/** What waits while the user decides about unsaved changes. */
export interface Leaving {
  doing: string;
  proceed: () => Promise<void>;
}

/**
 * The open project file: maps the workspace, the history, the reflection sessions and their images onto a
 * ProjectDocument and back; new, open, save, save as, recent files, autosave and crash recovery. The renderer's
 * only owner of the projects and dialogs namespaces.
 */
export class ProjectState {
  path = $state<string | null>(null);
  recent = $state.raw<RecentProject[]>([]);
  /** Unsaved work left by a crash, offered once at start. */
  recoverable = $state.raw<RecoverableProject[]>([]);
  reflections = $state.raw<ReflectionSession[]>([]);
  message = $state<{ notice: Notice; tone: 'error' | 'info' } | null>(null);
  /** Set while the user is asked whether to save before a new or another project replaces this one. */
  leaving = $state<Leaving | null>(null);
  busy = $state(false);
  #meta = $state.raw<Meta | null>(null);
  #canvas = $state.raw<CanvasState>(DEFAULT_CANVAS);
  /** The content as last saved or opened; null: never saved in this form (new work, a recovered file). */
  #saved = $state<string | null>(null);
  /** Images main holds for this project, so each crosses IPC once. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping for IPC; nothing renders it
  #sent = new Set<ImageHash>();

  readonly content = $derived.by<ProjectContent>(() =>
    contentOf({
      doc: this.workspace.doc,
      seed: this.workspace.seed,
      imageGuidance: this.workspace.imageGuidance,
      items: this.history.items,
      reflections: this.reflections,
      conversations: this.chat.conversations,
      model: this.history.items[0]?.model ?? '',
      canvas: this.#canvas,
    }),
  );
  readonly #fingerprint = $derived(JSON.stringify(this.content));
  readonly dirty = $derived(this.#fingerprint !== this.#saved);
  readonly name = $derived(this.path ? baseName(this.path) : t('project.untitled'));

  #started: Promise<void> | null = null;

  constructor(
    private readonly api: AtelierApi,
    private readonly images: ImageStore,
    private readonly workspace: WorkspaceState,
    private readonly history: HistoryState,
    private readonly chat: ChatState,
  ) {}

  /** At start: unsaved work from a crash to offer, recent files, and a fresh project for main to autosave. */
  start(): Promise<void> {
    this.#started = this.#start();
    return this.#started;
  }

  /** A file the system asked to open, possibly while start() is still making the fresh project it would replace. */
  openWhenStarted(path: string): void {
    void (this.#started ?? Promise.resolve()).then(() => this.open(path));
  }

  async #start(): Promise<void> {
    const [recoverable, created] = await Promise.all([this.api.projects.recoverable(), this.api.projects.create()]);
    if (recoverable.ok) this.recoverable = recoverable.value;
    else this.#fail(recoverable.error, t('doing.lookForUnsaved'));
    if (created.ok) this.#adopt(created.value);
    else this.#fail(created.error, t('doing.startProject'));
    await this.refreshRecent();
  }

  async refreshRecent(): Promise<void> {
    const r = await this.api.projects.recent();
    if (r.ok) this.recent = r.value;
  }

  newProject(): void {
    this.#guard(t('leaving.newProject'), async () => {
      const r = await this.api.projects.create();
      if (!r.ok) {
        this.#fail(r.error, t('doing.startProject'));
        return;
      }
      await this.#load(r.value);
    });
  }

  /** Open: the given file, or the one the user picks. */
  open(path?: string): void {
    this.#guard(t('leaving.openProject'), async () => {
      const target = path ?? (await this.#ask(() => this.api.dialogs.openProjectPath(), t('doing.openAProject')));
      if (!target) return;
      const r = await this.api.projects.open(target);
      if (!r.ok) {
        this.#fail(r.error, t('doing.openProject'));
        return;
      }
      await this.#load(r.value);
      await this.refreshRecent();
    });
  }

  /** A dropped .atelier file, by the path Electron knows for it. */
  openDropped(file: File): void {
    const path = this.api.pathForFile(file);
    if (path) {
      this.open(path);
      return;
    }
    this.message = {
      tone: 'error',
      notice: { title: t('dropped.title', { name: file.name }), detail: t('dropped.detail'), next: t('dropped.next') },
    };
  }

  async save(): Promise<boolean> {
    const path = this.path;
    if (!path) return this.saveAs();
    return this.#write((req) => this.api.projects.save(req));
  }

  async saveAs(): Promise<boolean> {
    const path = await this.#ask(
      () => this.api.dialogs.saveProjectPath(`${this.name}.atelier`),
      t('doing.saveProject'),
    );
    if (!path) return false;
    return this.#write((req) => this.api.projects.saveAs({ ...req, path }));
  }

  async forgetRecent(path: string): Promise<void> {
    const r = await this.api.projects.forgetRecent(path);
    if (r.ok) this.recent = r.value;
  }

  /** After a change: main writes the recovery file within its interval, or now after a finished run. */
  async autosave(immediate: boolean): Promise<void> {
    if (!this.dirty || !this.#meta) return;
    const req = this.#request();
    const r = await this.api.projects.autosave({ ...req, immediate });
    if (r.ok) req.images.forEach((i) => this.#sent.add(i.hash));
    else this.#fail(r.error, t('doing.autosave'));
  }

  async recover(id: string): Promise<void> {
    this.recoverable = this.recoverable.filter((p) => p.id !== id);
    const r = await this.api.projects.recover(id);
    if (!r.ok) {
      this.#fail(r.error, t('doing.recover'));
      return;
    }
    await this.#load(r.value);
  }

  /** A finished reflection session (a continued one replaces its earlier state); written at once, like a finished run. */
  addReflection(session: ReflectionSession): void {
    this.reflections = [...this.reflections.filter((s) => s.id !== session.id), session];
    void this.autosave(true);
  }

  /** Not now: the work stays on disk and is offered again at the next start. */
  postponeRecovery(): void {
    this.recoverable = [];
  }

  async discardRecovery(id: string): Promise<void> {
    this.recoverable = this.recoverable.filter((p) => p.id !== id);
    const r = await this.api.projects.discardRecovery(id);
    if (!r.ok) this.#fail(r.error, t('doing.discardUnsaved'));
  }

  /** Writes results as PNGs (recipe embedded) into a folder the user picks. */
  async exportPng(items: readonly HistoryItem[]): Promise<void> {
    const folder = await this.#ask(() => this.api.dialogs.pickFolder(), t('doing.export'));
    if (!folder) return;
    const r = await this.api.projects.exportPng({
      folder,
      items: items.map((i, k) => ({
        image: i.image,
        recipe: $state.snapshot(i.recipe),
        fileName: fileName(i.recipe.prompt, i.recipe.seed, k),
      })),
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup
      images: this.#unsent(new Set(items.map((i) => i.image))),
    });
    if (!r.ok) {
      this.#fail(r.error, t('doing.export'));
      return;
    }
    this.message = {
      tone: 'info',
      notice: {
        title: t('exported.title', { count: r.value.length }),
        detail: t('exported.detail', { folder }),
        next: t('exported.next'),
      },
    };
  }

  /** The conversation as Markdown with its images beside it, in a folder the user picks. */
  async exportChat(conversation: Conversation, pictures: readonly HistoryItem[]): Promise<void> {
    const folder = await this.#ask(() => this.api.dialogs.pickFolder(), t('doing.exportChat'));
    if (!folder) return;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup
    const hashes = new Set([...conversation.images, ...pictures.map((p) => p.image)]);
    const r = await this.api.projects.exportChat({
      folder,
      fileName: `conversation-${conversation.createdAt.slice(0, 19).replace(/[^0-9]/g, '')}`,
      conversation: $state.snapshot(conversation) as Conversation,
      pictures: pictures.map((p) => ({ resultId: p.id, image: p.image, recipe: $state.snapshot(p.recipe) })),
      images: this.#unsent(hashes),
    });
    if (!r.ok) {
      this.#fail(r.error, t('doing.exportChat'));
      return;
    }
    this.message = {
      tone: 'info',
      notice: {
        title: t('chatExported.title'),
        detail: t('chatExported.detail', { file: r.value[0]!, count: r.value.length - 1 }),
        next: t('chatExported.next'),
      },
    };
  }

  /** The recipe an Atelier PNG carries, or null for any other image. */
  async recipeOf(png: Uint8Array): Promise<Recipe | null> {
    const r = await this.api.projects.readRecipe(png);
    return r.ok ? r.value : null;
  }

  /** Answers the unsaved-changes question: save first, discard them, or stay. */
  async leave(choice: 'save' | 'discard' | 'cancel'): Promise<void> {
    const leaving = this.leaving;
    this.leaving = null;
    if (!leaving || choice === 'cancel') return;
    if (choice === 'save' && !(await this.save())) return;
    await this.#proceed(leaving.proceed, choice === 'discard');
  }

  #guard(doing: string, proceed: () => Promise<void>): void {
    if (this.dirty) this.leaving = { doing, proceed };
    else void this.#proceed(proceed, false);
  }

  /** Runs a replacement; the work it replaced was saved or given up, so its recovery file goes. */
  async #proceed(proceed: () => Promise<void>, discarded: boolean): Promise<void> {
    const before = this.#meta?.id;
    this.busy = true;
    try {
      await proceed();
    } finally {
      this.busy = false;
    }
    if (discarded && before && this.#meta?.id !== before) await this.api.projects.discardRecovery(before);
  }

  async #load(project: OpenedProject): Promise<void> {
    try {
      await Promise.all(project.images.map((i) => this.images.add(i.bytes, 'image/png')));
      const { document } = project;
      await this.workspace.restore(project.source === 'new' ? null : workspaceOf(document.workspace));
      this.history.replace(itemsOf(document));
      this.reflections = document.reflections;
      this.chat.replace(document.conversations);
      this.#canvas = document.workspace.canvas;
    } catch (e) {
      this.#fail({ code: 'corrupt-file', message: (e as Error).message }, t('doing.openProject'));
      return;
    }
    this.#adopt(project);
  }

  #adopt(project: OpenedProject): void {
    const { id, createdAt, modifiedAt, appVersion } = project.document;
    this.#meta = { id, createdAt, modifiedAt, appVersion };
    this.path = project.path;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping for IPC; nothing renders it
    this.#sent = new Set(project.images.map((i) => i.hash));
    this.#saved = project.source === 'recovery' ? null : this.#fingerprint;
    this.message = null;
  }

  async #write(
    call: (req: { document: ProjectDocument; images: ProjectImage[] }) => Promise<Result<SavedProject>>,
  ): Promise<boolean> {
    const fingerprint = this.#fingerprint;
    const req = this.#request();
    this.busy = true;
    const r = await call(req).finally(() => {
      this.busy = false;
    });
    if (!r.ok) {
      this.#fail(r.error, t('doing.saveProject'));
      return false;
    }
    req.images.forEach((i) => this.#sent.add(i.hash));
    this.path = r.value.path;
    this.#meta = { ...this.#meta!, modifiedAt: r.value.modifiedAt };
    this.#saved = fingerprint;
    this.message = null;
    void this.refreshRecent();
    return true;
  }

  #request(): { document: ProjectDocument; images: ProjectImage[] } {
    const content = $state.snapshot(this.content) as ProjectContent;
    return { document: { ...this.#meta!, ...content }, images: this.#unsent(imagesOf(content)) };
  }

  #unsent(hashes: Set<ImageHash>): ProjectImage[] {
    return [...hashes]
      .filter((h) => !this.#sent.has(h))
      .flatMap((hash) => {
        const image = this.images.get(hash);
        return image ? [{ hash, bytes: image.bytes }] : [];
      });
  }

  /** A dialog's answer; null when the user cancelled or it failed (then the message says why). */
  async #ask(dialog: () => Promise<Result<string | null>>, doing: string): Promise<string | null> {
    const r = await dialog();
    if (r.ok) return r.value;
    this.#fail(r.error, doing);
    return null;
  }

  #fail(error: IpcError, doing: string): void {
    this.message = { tone: 'error', notice: describeError(error, doing) };
  }
}

function baseName(path: string): string {
  return (path.split(/[\\/]/).pop() ?? path).replace(/\.atelier$/i, '');
}

/** "a-red-car-1234.png": readable, safe on every file system, distinct per image. */
function fileName(prompt: string, seed: number, k: number): string {
  const words =
    prompt
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 48) || 'atelier';
  return `${words}-${seed}${k > 0 ? `-${k + 1}` : ''}.png`;
}
