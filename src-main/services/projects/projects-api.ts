import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Contract, OpenedProject, SavedProject } from '../../ipc/contract.ts';
import { Autosaver } from './autosaver.ts';
import { nodeFileSystem, type FileSystem } from './file-system.ts';
import { exportChat } from './chat-export.ts';
import { exportPngs } from './png-export.ts';
import { readRecipe } from './png-recipe.ts';
import { readProjectFile, summarizeProject } from './project-file.ts';
import { ProjectStore } from './project-store.ts';
import { RecentProjects, type RecentList } from './recent-projects.ts';
import { RecoveryStore } from './recovery-store.ts';

export interface ProjectsDeps {
  /** Electron's userData folder (paths.ts userDataDir()); recovery files go to `<userDataDir>/recovery`. */
  userDataDir: string;
  appVersion: string;
  /** Backed by Settings.recentProjects in the app: `{ get: () => s.get().recentProjects, set: (p) => s.update({ recentProjects: p }) }`. */
  recent: RecentList;
  /** Read on every change, so a new Settings.autosaveSeconds applies at once. */
  autosaveIntervalMs(): number;
  /** Failures of timer-driven autosaves and of cleanups after a successful save (nobody awaits those). */
  onBackgroundError(error: unknown): void;
  /** Tests inject failures (full disk, read-only volume) here. */
  fs?: FileSystem;
  now?: () => Date;
  newId?: () => string;
}

export const RECOVERY_FOLDER = 'recovery';

const ok = <T>(value: T) => ({ ok: true as const, value });

/** The projects namespace of the contract, over plain-Node services. Failures are thrown as ProjectError. */
export function createProjectsApi(deps: ProjectsDeps): Contract['projects'] {
  const fs = deps.fs ?? nodeFileSystem;
  const now = deps.now ?? (() => new Date());
  const recent = new RecentProjects(deps.recent, fs);
  const store = new ProjectStore({ fs, recent, appVersion: deps.appVersion, now, newId: deps.newId ?? randomUUID });
  const recovery = new RecoveryStore(fs, join(deps.userDataDir, RECOVERY_FOLDER));
  const autosaver = new Autosaver(recovery, deps.autosaveIntervalMs, deps.onBackgroundError, now);
  let openId: string | null = null;

  const opened = (project: OpenedProject) => {
    openId = project.document.id;
    return ok(project);
  };
  /** After a save its recovery file is obsolete; changes submitted while it ran stay pending. */
  const saved = async (id: string, save: () => Promise<SavedProject>) => {
    const mark = autosaver.mark();
    const result = await save();
    openId = id;
    await autosaver.discard(id, mark).catch(deps.onBackgroundError);
    return ok(result);
  };

  return {
    create: async () => opened(store.create()),
    open: async (path) => opened(await store.open(path)),
    save: async (req) => saved(req.document.id, () => store.save(req)),
    saveAs: async (req) => saved(req.document.id, () => store.saveAs(req.path, req)),
    close: async () => {
      // Closing always succeeds; a recovery file that cannot be deleted is retired as stale on a later start.
      if (openId !== null) await autosaver.discard(openId).catch(deps.onBackgroundError);
      store.close();
      openId = null;
      return ok(undefined);
    },
    info: async (path) => ok(summarizeProject(path, await readProjectFile(fs, path))),
    recent: async () => ok(await recent.entries()),
    forgetRecent: async (path) => {
      recent.forget(path);
      return ok(await recent.entries());
    },
    autosave: async (req) => {
      store.images.add(req.images);
      const images = store.images.select(req.document);
      return ok(await autosaver.submit({ document: req.document, images, projectPath: store.path }, req.immediate));
    },
    recoverable: async () => ok(await recovery.list(autosaver.ownIds)),
    recover: async (id) => {
      const { projectPath, project } = await recovery.read(id);
      autosaver.ownIds.add(id); // it is this session's work now, no longer a leftover to offer
      return opened(store.adopt(projectPath, project, 'recovery'));
    },
    discardRecovery: async (id) => ok(await autosaver.discard(id)),
    exportPng: async (req) => ok(await exportPngs(fs, store.images, req)),
    exportChat: async (req) => ok(await exportChat(fs, store.images, req)),
    readRecipe: async (png) => ok(readRecipe(png)),
  };
}
