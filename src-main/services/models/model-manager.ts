import { rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CatalogueEntry, DownloadProgress, Events, InstalledModel, ModelState } from '../../ipc/contract.ts';
import { CATALOGUE } from './catalogue.ts';
import { acquireDownloadLock } from './download-lock.ts';
import { HubClient, type HubOptions } from './hub-client.ts';
import { importModel } from './import.ts';
import { describeEntry, isTrusted } from './installed-model.ts';
import { readImportSource } from './import-source.ts';
import { downloadRepository, type TransferTuning } from './model-download.ts';
import { ModelError, describeModelError } from './model-error.ts';
import { DownloadProgressTracker } from './progress-tracker.ts';
import { ModelRegistry, type RegistryEntry } from './registry.ts';
import { checkRepoId, checkRevision, repoFolderName } from './repo-id.ts';
import { verifyFile } from './verify.ts';
import { removeExternalWeightCache } from './weight-cache-dir.ts';

export type ModelEvent =
  { event: 'download.progress'; payload: DownloadProgress } | { event: 'model.state'; payload: Events['model.state'] };

export interface ModelManagerOptions {
  modelsDir: string;
  /** Endpoint and token, read at each download start so a settings change applies to the next one. */
  hub: () => HubOptions;
  /** Ranged connections per large file, read at each download start like `hub`. */
  connections?: () => number;
  tuning?: TransferTuning;
  /** Atelier's cache folder, where converted weights of a model may live outside its folder (weight-cache-dir.ts). */
  cacheDir?: string;
}

export interface DownloadHandle {
  /** Resolves once the listing is known and the disk-space check passed (the transfer is under way). */
  started: Promise<InstalledModel>;
  /** Resolves when every file is verified; rejects with the ModelError that stopped it (paused ones: 'cancelled'). */
  done: Promise<InstalledModel>;
}

interface ActiveOperation {
  kind: 'downloading' | 'verifying';
  controller: AbortController;
  /** Settles once the operation has ended and its state is stored (pause and cancel wait for it). */
  finished: Promise<void>;
  settle(): void;
  stop?: 'pause' | 'cancel';
}

/** The model service: registry, downloads, verification, import and removal, with state and progress events. */
export class ModelManager {
  readonly registry: ModelRegistry;
  readonly #active = new Map<string, ActiveOperation>();
  readonly #listeners = new Set<(e: ModelEvent) => void>();

  constructor(private readonly o: ModelManagerOptions) {
    this.registry = new ModelRegistry(o.modelsDir);
  }

  get modelsDir(): string {
    return this.o.modelsDir;
  }

  subscribe(listener: (e: ModelEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  catalogue(): CatalogueEntry[] {
    return [...CATALOGUE];
  }

  async list(): Promise<InstalledModel[]> {
    return Promise.all((await this.registry.list()).map((e) => this.#describe(e)));
  }

  async get(repo: string): Promise<InstalledModel | null> {
    const entry = await this.registry.get(repo);
    return entry ? this.#describe(entry) : null;
  }

  /** Starts a download, or resumes one whose partial files are on disk. */
  download(repo: string, opts: { revision?: string; hub?: Partial<HubOptions> } = {}): DownloadHandle {
    let markStarted: (m: InstalledModel) => void = () => {};
    const started = new Promise<InstalledModel>((res) => (markStarted = res));
    const done = (async () => {
      checkRepoId(repo);
      if (opts.revision !== undefined) checkRevision(opts.revision);
      const op = this.#begin(repo, 'downloading');
      try {
        await this.#runDownload(repo, opts, op, markStarted);
      } finally {
        await this.#end(repo, op);
      }
      return (await this.get(repo))!;
    })();
    const startedOrFailed = Promise.race([started, done]);
    // A caller that only waits for `done` must not get an unhandled rejection from `started` as well.
    startedOrFailed.catch(() => undefined);
    return { started: startedOrFailed, done };
  }

  resume(repo: string): DownloadHandle {
    return this.download(repo);
  }

  /** Stops a running download, keeping its partial files; resolves with the paused model. */
  async pause(repo: string): Promise<InstalledModel> {
    const op = this.#active.get(repo);
    if (op?.kind !== 'downloading') throw new ModelError('invalid-request', `${repo} is not downloading`, { repo });
    op.stop = 'pause';
    op.controller.abort();
    await op.finished;
    return (
      (await this.get(repo)) ??
      Promise.reject(new ModelError('not-found', `${repo} stopped before its listing arrived`, { repo }))
    );
  }

  /** Stops a download; unless `keepPartial`, deletes its folder so nothing of it is left on disk. */
  async cancel(repo: string, opts: { keepPartial: boolean }): Promise<void> {
    const op = this.#active.get(repo);
    if (op && op.kind !== 'downloading') throw new ModelError('busy', `${repo} is being verified`, { repo });
    if (op) {
      op.stop = 'cancel';
      op.controller.abort();
      await op.finished;
    }
    const entry = await this.registry.get(repo);
    if (!op && entry?.state !== 'paused') {
      throw new ModelError(
        'invalid-request',
        entry ? `${repo} is not downloading (use remove to delete it)` : `${repo} is not downloading`,
        { repo },
      );
    }
    if (!opts.keepPartial) await this.#deleteModel(repo);
  }

  async remove(repo: string): Promise<void> {
    if (this.#active.has(repo)) throw new ModelError('busy', `${repo} is busy; cancel its download first`, { repo });
    if (!(await this.registry.get(repo)))
      throw new ModelError('not-found', `${repo} is not installed in ${this.o.modelsDir}`, { repo });
    await this.#deleteModel(repo);
  }

  /** Re-hashes every file against the recorded checksums; the model ends 'ready' or 'damaged'. */
  async verify(repo: string, signal?: AbortSignal): Promise<InstalledModel> {
    const entry = await this.registry.get(repo);
    if (!entry) throw new ModelError('not-found', `${repo} is not installed in ${this.o.modelsDir}`, { repo });
    if (entry.state === 'paused')
      throw new ModelError('invalid-request', `${repo} is not fully downloaded yet; resume the download`, { repo });
    const op = this.#begin(repo, 'verifying');
    signal?.addEventListener('abort', () => op.controller.abort(), { once: true });
    try {
      await this.#emitState(repo);
      const folder = join(this.o.modelsDir, entry.folder);
      const tracker = new DownloadProgressTracker(
        repo,
        entry.files,
        (p) => this.#emit({ event: 'download.progress', payload: p }),
        250,
        'verifying',
      );
      const damaged: string[] = [];
      for (const file of entry.files) {
        tracker.start(file.path);
        let done = 0;
        const problem = await verifyFile(folder, file, {
          signal: op.controller.signal,
          onBytes: (d) => tracker.set(file.path, (done += d)),
        });
        if (problem) damaged.push(file.path);
        tracker.finish(file.path);
      }
      tracker.flush();
      await this.registry.update(
        repo,
        (cur) =>
          cur && {
            ...cur,
            state: damaged.length ? 'damaged' : 'ready',
            verified: cur.files.map((f) => f.path).filter((p) => !damaged.includes(p)),
            damagedFiles: damaged.length ? damaged : undefined,
            error: damaged.length
              ? {
                  code: 'model-damaged',
                  message: `${damaged.length} file(s) missing or altered: ${damaged.slice(0, 5).join(', ')}${damaged.length > 5 ? ', …' : ''}`,
                  detail: { reason: 'checksum-mismatch' },
                }
              : undefined,
          },
      );
    } finally {
      await this.#end(repo, op);
    }
    return (await this.get(repo))!;
  }

  /** Imports an existing folder (plain snapshot or hub cache) into the models folder, verified. */
  async import(folder: string, opts: { repo?: string; signal?: AbortSignal } = {}): Promise<InstalledModel> {
    const source = await readImportSource(resolve(folder), opts.repo);
    if (await this.registry.get(source.repo)) {
      throw new ModelError('busy', `${source.repo} is already installed; remove it first to import another copy`, {
        repo: source.repo,
      });
    }
    const op = this.#begin(source.repo, 'verifying');
    opts.signal?.addEventListener('abort', () => op.controller.abort(), { once: true });
    try {
      await this.#emitState(source.repo);
      const imported = await importModel(source, {
        modelsDir: this.o.modelsDir,
        signal: op.controller.signal,
        onProgress: (p) => this.#emit({ event: 'download.progress', payload: p }),
      });
      await this.registry.update(source.repo, () => ({
        repo: source.repo,
        revision: source.revision,
        commit: source.commit,
        folder: imported.folder,
        state: 'ready',
        source: 'import',
        checksums: source.checksums,
        files: imported.files,
        verified: imported.files.map((f) => f.path),
        updatedAt: '',
      }));
    } finally {
      await this.#end(source.repo, op);
    }
    return (await this.get(source.repo))!;
  }

  async #runDownload(
    repo: string,
    opts: { revision?: string; hub?: Partial<HubOptions> },
    op: ActiveOperation,
    markStarted: (m: InstalledModel) => void,
  ): Promise<void> {
    const existing = await this.registry.get(repo);
    const revision = opts.revision ?? existing?.revision ?? 'main';
    if (existing?.state === 'ready' && existing.revision === revision) {
      markStarted({ ...(await this.#describe(existing)), state: 'ready' });
      return;
    }
    await this.#emitState(repo);
    const folder = repoFolderName(repo);
    try {
      await downloadRepository({
        ...this.o.tuning,
        ...(this.o.connections ? { connections: this.o.connections() } : {}),
        hub: new HubClient({ ...this.o.hub(), ...opts.hub }),
        repo,
        revision,
        folder: join(this.o.modelsDir, folder),
        signal: op.controller.signal,
        isVerified: (f) => isTrusted(existing, f),
        onStarted: async (listing, verifiedPaths) => {
          await this.registry.update(repo, () => ({
            repo,
            revision,
            commit: listing.commit,
            folder,
            state: 'paused',
            source: 'download',
            checksums: 'hub',
            files: listing.files,
            verified: verifiedPaths,
            updatedAt: '',
          }));
          markStarted((await this.get(repo))!);
          await this.#emitState(repo);
        },
        onFileVerified: async (f) => {
          await this.registry.update(
            repo,
            (cur) => cur && { ...cur, verified: [...new Set([...cur.verified, f.path])] },
          );
        },
        onProgress: (p) => this.#emit({ event: 'download.progress', payload: p }),
      });
      await this.registry.update(
        repo,
        (cur) => cur && { ...cur, state: 'ready', error: undefined, damagedFiles: undefined },
      );
    } catch (e) {
      // Paused or failed: the partial files stay and the model reads back as 'paused' with the reason.
      const stoppedByUser = op.stop !== undefined;
      await this.registry.update(
        repo,
        (cur) => cur && { ...cur, state: 'paused', error: stoppedByUser ? undefined : describeModelError(e) },
      );
      throw e;
    }
  }

  #begin(repo: string, kind: ActiveOperation['kind']): ActiveOperation {
    if (this.#active.has(repo))
      throw new ModelError('busy', `${repo} is already ${this.#active.get(repo)!.kind}`, { repo });
    let settle: () => void = () => {};
    const finished = new Promise<void>((res) => (settle = res));
    const op: ActiveOperation = { kind, controller: new AbortController(), finished, settle };
    this.#active.set(repo, op);
    return op;
  }

  /** Ends an operation (its state reverts to the stored one), then tells the UI. */
  async #end(repo: string, op: ActiveOperation): Promise<void> {
    if (this.#active.get(repo) === op) this.#active.delete(repo);
    op.settle();
    await this.#emitState(repo);
  }

  async #deleteModel(repo: string): Promise<void> {
    const entry = await this.registry.get(repo);
    const folder = join(this.o.modelsDir, entry?.folder ?? repoFolderName(repo));
    if (
      await stat(folder).then(
        () => true,
        () => false,
      )
    ) {
      const release = await acquireDownloadLock(folder); // refuses while another process downloads into it
      try {
        await rm(folder, { recursive: true, force: true });
        if (this.o.cacheDir !== undefined) await removeExternalWeightCache(folder, this.o.cacheDir);
      } finally {
        await release();
      }
    }
    await this.registry.update(repo, () => undefined);
    await this.#emitState(repo);
  }

  #describe(entry: RegistryEntry): Promise<InstalledModel> {
    return describeEntry(entry, this.o.modelsDir, this.#active.get(entry.repo)?.kind, this.o.cacheDir);
  }

  async #emitState(repo: string): Promise<void> {
    // An unreadable registry already fails the operation itself; the event is simply skipped.
    const model = await this.get(repo).catch(() => undefined);
    if (model === undefined) return;
    const state: ModelState = this.#active.get(repo)?.kind ?? model?.state ?? 'not-installed';
    this.#emit({ event: 'model.state', payload: { repo, state, model } });
  }

  #emit(e: ModelEvent): void {
    for (const listener of this.#listeners) listener(e);
  }
}
