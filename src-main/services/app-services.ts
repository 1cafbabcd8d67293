import type { AppInfo, Contract, ProbeResult } from '../ipc/contract.ts';
import type { GeneratedPng } from '../engine/pipeline/generate-job.ts';
import { ok } from '../ipc/register-handlers.ts';
import type { Engine } from '../engine/host/engine-client.ts';
import { modelFolder, toGenerateJob, toGeneratedImages } from './generation/generation-jobs.ts';
import { assertModelUsable } from './models/usable-model.ts';
import { weightCacheDirFor } from './models/weight-cache-dir.ts';
import { ChatJobs } from './generation/chat-jobs.ts';
import { ReflectionJobs, withTaskReports } from './generation/reflection-jobs.ts';
import { JobQueue, type Emit } from './jobs/job-queue.ts';
import { createModelsFolderApi } from './models/models-folder.ts';
import { createProjectsApi } from './projects/projects-api.ts';
import { ProviderStatusService } from './runtime/provider-status.ts';
import type { SettingsService } from './settings/settings-service.ts';

/** What differs between the desktop app, the CLI and the headless tests; everything else is shared. */
export interface AppDeps {
  engine: Engine;
  settings: SettingsService;
  emit: Emit;
  shell: AppInfo['shell'];
  version: string;
  openExternal(url: string): Promise<void>;
  /** The provider failure cache under userData (engine/onnx/provider-cache.ts); absent: none across starts. */
  providerCacheFile?: string;
  /** Where recovery files go (Electron's userData). */
  userDataDir: string;
  env: NodeJS.ProcessEnv;
  /** Background failures nobody awaits (timer-driven autosaves, cleanups). */
  log(error: unknown): void;
  /** The system's file dialogs (Electron's in the app, scripted answers in the headless tests); absent in the CLI. */
  dialogs?: Contract['dialogs'];
}

export interface AppServices {
  contract: Contract;
  queue: JobQueue;
}

const noDialog = async (): Promise<never> => {
  throw Object.assign(new Error('there are no file dialogs without a window'), { code: 'unsupported' });
};
const noDialogs: Contract['dialogs'] = { saveProjectPath: noDialog, openProjectPath: noDialog, pickFolder: noDialog };

/** Builds the implementation of every contract method from plain-Node services. */
export function createAppServices(deps: AppDeps): AppServices {
  const reflections = new ReflectionJobs({
    emit: deps.emit,
    version: deps.version,
    modelsDir: () => deps.settings.get().modelsDir,
  });
  const chats = new ChatJobs({ emit: deps.emit, modelsDir: () => deps.settings.get().modelsDir });
  const queue = new JobQueue(
    withTaskReports(deps.engine, {
      report: (jobId, report) =>
        report.kind === 'chat' ? chats.report(jobId, report) : reflections.report(jobId, report),
      failed: reflections.failed,
    }),
    deps.emit,
  );
  const providers = new ProviderStatusService({
    engine: deps.engine,
    settings: () => deps.settings.get(),
    cacheFile: deps.providerCacheFile ?? null,
    appVersion: deps.version,
  });
  deps.settings.onChange((settings) => deps.emit('settings.changed', { settings }));
  /** How a job on `model` runs (the model checked usable first): provider, memory mode, converted-weight folder. */
  const runtimeFor = async (model: string) => {
    const { modelsDir, cacheDir, memoryMode } = deps.settings.get();
    const modelDir = modelFolder(model, modelsDir);
    await assertModelUsable(modelDir);
    return {
      provider: providers.request(),
      memoryMode,
      weightCacheDir: await weightCacheDirFor(modelDir, { modelsDir, cacheDir }),
    };
  };
  const contract: Contract = {
    app: {
      info: async () =>
        ok({
          name: 'Atelier',
          version: deps.version,
          platform: process.platform,
          arch: process.arch,
          shell: deps.shell,
          modelsDir: deps.settings.get().modelsDir,
        }),
      openExternal: async (url) => ok(await deps.openExternal(url)),
      providers: async (req) => ok(await providers.status(req.refresh)),
    },
    settings: {
      get: async () => ok(deps.settings.get()),
      update: async (patch) => ok(deps.settings.update(patch)),
    },
    models: createModelsFolderApi({
      modelsDir: () => deps.settings.get().modelsDir,
      cacheDir: () => deps.settings.get().cacheDir,
      hubEndpoint: () => deps.settings.get().hubEndpoint,
      downloadConnections: () => deps.settings.get().downloadConnections,
      env: deps.env,
      emit: deps.emit,
    }),
    projects: createProjectsApi({
      userDataDir: deps.userDataDir,
      appVersion: deps.version,
      recent: {
        get: () => deps.settings.get().recentProjects,
        set: (recentProjects) => {
          deps.settings.update({ recentProjects });
        },
      },
      autosaveIntervalMs: () => deps.settings.get().autosaveSeconds * 1000,
      onBackgroundError: deps.log,
    }),
    jobs: {
      probe: async (req) =>
        ok(
          queue.submit(
            'probe',
            `Engine check (${req.size}², ${req.runs} runs)`,
            { kind: 'probe', ...req },
            (result) => ({ images: [], probe: result as ProbeResult }),
          ),
        ),
      generate: async (req) => {
        const runtime = await runtimeFor(req.model);
        return ok(
          queue.submit(
            'generate',
            req.recipe.prompt.slice(0, 80) || 'Untitled',
            {
              kind: 'generate',
              job: toGenerateJob(req, deps.settings.get().modelsDir, runtime),
            },
            (result) => ({ images: toGeneratedImages(req, result as GeneratedPng[], deps.version) }),
          ),
        );
      },
      reflect: async (req) => {
        return ok(reflections.submit(queue, req, await runtimeFor(req.model)));
      },
      acceptReflection: async (id) => ok(reflections.accept(queue, id)),
      chat: async (req) => {
        return ok(chats.submit(queue, req, await runtimeFor(req.model)));
      },
      cancel: async (id) => {
        if (!queue.cancel(id)) throw Object.assign(new Error(`no running or queued job ${id}`), { code: 'not-found' });
        return ok(undefined);
      },
      list: async () => ok(queue.list()),
    },
    dialogs: deps.dialogs ?? noDialogs,
  };
  return { contract, queue };
}
