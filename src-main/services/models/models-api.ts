import type { Contract, Events, Result } from '../../ipc/contract.ts';
import { ModelError, describeModelError } from './model-error.ts';
import type { ModelEvent, ModelManager } from './model-manager.ts';

export interface ModelsApiDeps {
  manager: ModelManager;
  /** Pushes an event to the renderer (webContents.send in the app, the bridge in headless tests). */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void;
}

/** Adapts the model manager to the IPC contract: typed failures become `{ ok: false }`, the rest is rethrown
 *  so registerHandlers reports it as 'internal' and logs it. */
export function createModelsApi({ manager, emit }: ModelsApiDeps): Contract['models'] {
  manager.subscribe((e: ModelEvent) => {
    // Two calls, so the compiler pairs each event name with its own payload type.
    if (e.event === 'download.progress') emit(e.event, e.payload);
    else emit(e.event, e.payload);
  });
  const startDownload = async (repo: string, revision?: string) => {
    const handle = manager.download(repo, revision === undefined ? {} : { revision });
    // The outcome of the transfer reaches the renderer as 'model.state' events, not as this call's answer.
    handle.done.catch(() => undefined);
    return handle.started;
  };
  return {
    catalogue: () => result(async () => manager.catalogue()),
    list: () => result(() => manager.list()),
    download: (req) => result(() => startDownload(req.repo, req.revision)),
    pause: (repo) => result(() => manager.pause(repo)),
    resume: (repo) => result(() => startDownload(repo)),
    cancel: (req) => result(() => manager.cancel(req.repo, { keepPartial: req.keepPartial })),
    verify: (repo) => result(() => manager.verify(repo)),
    remove: (repo) => result(() => manager.remove(repo)),
    import: (req) => result(() => manager.import(req.folder, req.repo === undefined ? {} : { repo: req.repo })),
  };
}

async function result<T>(fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof ModelError) return { ok: false, error: describeModelError(e) };
    throw e;
  }
}
