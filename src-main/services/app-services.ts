import type { AppInfo, Contract, ProbeResult } from '../ipc/contract.ts';
import type { GeneratedPng } from '../engine/pipeline/generate-job.ts';
import { ok } from '../ipc/register-handlers.ts';
import type { Engine } from '../engine/host/engine-client.ts';
import { toGenerateJob, toGeneratedImages } from './generation/generation-jobs.ts';
import { JobQueue, type Emit } from './jobs/job-queue.ts';
import type { SettingsService } from './settings/settings-service.ts';

/** What differs between the desktop app, the CLI and the headless tests; everything else is shared. */
export interface AppDeps {
  engine: Engine;
  settings: SettingsService;
  emit: Emit;
  shell: AppInfo['shell'];
  version: string;
  openExternal(url: string): Promise<void>;
}

export interface AppServices {
  contract: Contract;
  queue: JobQueue;
}

/** Builds the implementation of every contract method from plain-Node services. */
export function createAppServices(deps: AppDeps): AppServices {
  const queue = new JobQueue(deps.engine, deps.emit);
  deps.settings.onChange((settings) => deps.emit('settings.changed', { settings }));
  const contract: Contract = {
    app: {
      info: async () => ok({
        name: 'Atelier',
        version: deps.version,
        platform: process.platform,
        arch: process.arch,
        shell: deps.shell,
        modelsDir: deps.settings.get().modelsDir,
      }),
      openExternal: async (url) => ok(await deps.openExternal(url)),
    },
    settings: {
      get: async () => ok(deps.settings.get()),
      update: async (patch) => ok(deps.settings.update(patch)),
    },
    jobs: {
      probe: async (req) => ok(queue.submit('probe', `Engine check (${req.size}², ${req.runs} runs)`, { kind: 'probe', ...req },
        (result) => ({ images: [], probe: result as ProbeResult }))),
      generate: async (req) => ok(queue.submit('generate', req.recipe.prompt.slice(0, 80) || 'Untitled',
        { kind: 'generate', job: toGenerateJob(req, deps.settings.get().modelsDir) },
        (result) => ({ images: toGeneratedImages(req, result as GeneratedPng[], deps.version) }))),
      cancel: async (id) => {
        if (!queue.cancel(id)) throw Object.assign(new Error(`no running or queued job ${id}`), { code: 'not-found' });
        return ok(undefined);
      },
      list: async () => ok(queue.list()),
    },
  };
  return { contract, queue };
}
