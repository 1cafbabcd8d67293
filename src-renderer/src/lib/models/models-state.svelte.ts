import { t } from '../i18n/i18n.svelte.ts';
import type {
  AtelierApi,
  CatalogueEntry,
  DownloadProgress,
  InstalledModel,
  IpcError,
  ModelState,
  RepoId,
  Result,
} from '../../../../src-main/ipc/contract.ts';
import { describeError, type Notice } from '../shell/error-messages.ts';

/** One line of the model manager: a catalogue entry, an installed model, or both. */
export interface ModelRow {
  repo: RepoId;
  title: string;
  entry: CatalogueEntry | null;
  model: InstalledModel | null;
  state: ModelState;
  progress: DownloadProgress | null;
}

export type ModelAction = 'download' | 'pause' | 'resume' | 'cancel' | 'verify' | 'remove' | 'import';

/** The renderer's only owner of the models namespace: catalogue, installed models, live progress and actions. */
export class ModelsState {
  catalogue = $state.raw<CatalogueEntry[]>([]);
  installed = $state.raw<InstalledModel[]>([]);
  progress = $state.raw<Record<RepoId, DownloadProgress>>({});
  loaded = $state(false);
  notice = $state<Notice | null>(null);
  /** Actions waiting for main's answer, so their buttons can say so and not be pressed twice. */
  busy = $state.raw<Record<RepoId, ModelAction>>({});

  readonly rows = $derived.by<ModelRow[]>(() => {
    const repos = [
      ...this.catalogue.map((e) => e.repo),
      ...this.installed.map((m) => m.repo).filter((r) => !this.catalogue.some((e) => e.repo === r)),
    ];
    return repos.map((repo) => {
      const entry = this.catalogue.find((e) => e.repo === repo) ?? null;
      const model = this.installed.find((m) => m.repo === repo) ?? null;
      return {
        repo,
        title: entry?.title ?? repo,
        entry,
        model,
        state: model?.state ?? 'not-installed',
        progress: this.progress[repo] ?? null,
      };
    });
  });
  /** The model generation runs on: the first ready one, in catalogue order. */
  readonly ready = $derived(this.rows.find((r) => r.state === 'ready')?.model ?? null);
  /** Nothing installed or started yet: the first-run explanation is due. */
  readonly isFirstRun = $derived(this.loaded && this.installed.length === 0);

  constructor(private readonly api: AtelierApi) {}

  /** Loads the catalogue and the registry; returns the unsubscribe for progress and state events. */
  connect(): () => void {
    void this.refresh();
    const offs = [
      this.api.on('download.progress', (p) => {
        this.progress = { ...this.progress, [p.repo]: p };
      }),
      this.api.on('model.state', ({ repo, model }) => {
        this.#put(repo, model);
        if (model?.state !== 'downloading' && model?.state !== 'verifying') this.#dropProgress(repo);
        if (model?.error && model.error.code !== 'cancelled') this.notice = describeError(model.error, model.repo);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  async refresh(): Promise<void> {
    const [catalogue, installed] = await Promise.all([this.api.models.catalogue(), this.api.models.list()]);
    if (catalogue.ok) this.catalogue = catalogue.value;
    else this.notice = describeError(catalogue.error, t('doing.loadCatalogue'));
    if (installed.ok) this.installed = installed.value;
    else this.notice = describeError(installed.error, t('doing.readModels'));
    this.loaded = true;
  }

  download(repo: RepoId): Promise<void> {
    return this.#run(repo, 'download', () => this.api.models.download({ repo }));
  }
  pause(repo: RepoId): Promise<void> {
    return this.#run(repo, 'pause', () => this.api.models.pause(repo));
  }
  resume(repo: RepoId): Promise<void> {
    return this.#run(repo, 'resume', () => this.api.models.resume(repo));
  }
  verify(repo: RepoId): Promise<void> {
    return this.#run(repo, 'verify', () => this.api.models.verify(repo));
  }
  /** keepPartial: leave the downloaded files so the download can resume later. */
  async cancel(repo: RepoId, keepPartial: boolean): Promise<void> {
    await this.#run(repo, 'cancel', () => this.api.models.cancel({ repo, keepPartial }));
    if (!keepPartial) this.#put(repo, null);
  }
  async remove(repo: RepoId): Promise<void> {
    await this.#run(repo, 'remove', () => this.api.models.remove(repo));
    if (!this.installed.some((m) => m.repo === repo && m.state !== 'not-installed')) this.#dropProgress(repo);
  }
  /** Imports a folder given as a path (a plain snapshot or the hub cache layout). */
  importFolder(folder: string, repo?: RepoId): Promise<void> {
    const req = repo ? { folder: folder.trim(), repo } : { folder: folder.trim() };
    return this.#run('import', 'import', () => this.api.models.import(req));
  }

  /** A folder from the system's picker; null when the user cancelled. */
  async pickFolder(): Promise<string | null> {
    const r = await this.api.dialogs.pickFolder();
    if (r.ok) return r.value;
    this.notice = describeError(r.error, t('doing.chooseFolder'));
    return null;
  }

  async #run(key: string, action: ModelAction, call: () => Promise<Result<InstalledModel | void>>): Promise<void> {
    this.busy = { ...this.busy, [key]: action };
    try {
      const r = await call();
      if (!r.ok) {
        this.#failed(action, key, r.error);
        return;
      }
      if (r.value) this.#put(r.value.repo, r.value);
      else if (action === 'remove') this.#put(key, null);
    } finally {
      const { [key]: _done, ...rest } = this.busy;
      this.busy = rest;
    }
  }

  #failed(action: ModelAction, repo: string, error: IpcError): void {
    if (error.code === 'cancelled') return;
    const doing = {
      download: 'Downloading',
      pause: 'Pausing',
      resume: 'Resuming',
      cancel: 'Cancelling',
      verify: 'Verifying',
      remove: 'Removing',
      import: 'Importing',
    }[action];
    this.notice = describeError(error, action === 'import' ? doing : `${doing} ${repo}`);
  }

  #put(repo: RepoId, model: InstalledModel | null): void {
    const others = this.installed.filter((m) => m.repo !== repo);
    this.installed = model && model.state !== 'not-installed' ? [...others, model] : others;
  }

  #dropProgress(repo: RepoId): void {
    const { [repo]: _gone, ...rest } = this.progress;
    this.progress = rest;
  }
}
