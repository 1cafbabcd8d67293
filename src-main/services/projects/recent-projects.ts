import { basename, extname } from 'node:path';
import type { RecentProject } from '../../ipc/contract.ts';
import type { FileSystem } from './file-system.ts';

/** Where the list lives; the app passes one backed by Settings.recentProjects. */
export interface RecentList {
  get(): string[];
  set(paths: string[]): void;
}

const MAX_RECENT = 10;

export class RecentProjects {
  constructor(
    private readonly list: RecentList,
    private readonly fs: FileSystem,
  ) {}

  /** Moves `path` to the front. */
  add(path: string): void {
    this.list.set([path, ...this.list.get().filter((p) => p !== path)].slice(0, MAX_RECENT));
  }

  forget(path: string): void {
    this.list.set(this.list.get().filter((p) => p !== path));
  }

  /** Files that were moved or deleted stay listed, marked, so the UI can offer to forget them. */
  async entries(): Promise<RecentProject[]> {
    return Promise.all(
      this.list.get().map(async (path) => ({
        path,
        name: basename(path, extname(path)),
        exists: (await this.fs.stat(path).catch(() => null))?.isFile === true,
      })),
    );
  }
}
