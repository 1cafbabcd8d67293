import type { Contract, Events } from '../../ipc/contract.ts';
import { ModelManager } from './model-manager.ts';
import { createModelsApi } from './models-api.ts';

export interface ModelsFolderDeps {
  modelsDir(): string;
  /** Atelier's cache folder (settings), read when the manager is made. */
  cacheDir(): string;
  hubEndpoint(): string;
  downloadConnections(): number;
  env: NodeJS.ProcessEnv;
  emit<E extends keyof Events>(event: E, payload: Events[E]): void;
}

/**
 * The models namespace for the models folder chosen in settings: a manager is bound to one folder (and cache
 * folder), so a new folder gets a new manager (downloads into the old one keep their own).
 */
export function createModelsFolderApi(deps: ModelsFolderDeps): Contract['models'] {
  let current: { dir: string; cacheDir: string; api: Contract['models'] } | null = null;
  const api = (): Contract['models'] => {
    const dir = deps.modelsDir();
    const cacheDir = deps.cacheDir();
    if (current?.dir !== dir || current.cacheDir !== cacheDir) {
      const manager = new ModelManager({
        modelsDir: dir,
        cacheDir,
        // HF_ENDPOINT (a mirror) wins over the setting, as in the CLI; the token is never stored in settings.
        hub: () => ({
          endpoint: deps.env.HF_ENDPOINT ?? deps.hubEndpoint(),
          ...(deps.env.HF_TOKEN ? { token: deps.env.HF_TOKEN } : {}),
        }),
        connections: deps.downloadConnections,
      });
      current = { dir, cacheDir, api: createModelsApi({ manager, emit: deps.emit }) };
    }
    return current.api;
  };
  return {
    catalogue: () => api().catalogue(),
    list: () => api().list(),
    download: (req) => api().download(req),
    pause: (repo) => api().pause(repo),
    resume: (repo) => api().resume(repo),
    cancel: (req) => api().cancel(req),
    verify: (repo) => api().verify(repo),
    remove: (repo) => api().remove(repo),
    import: (req) => api().import(req),
  };
}
