import { join } from 'node:path';
import type { ImageHash, ProjectDocument, RecoverableProject } from '../../ipc/contract.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { FileSystem } from './file-system.ts';
import { ProjectError } from './project-errors.ts';
import { readProjectFile, writeProjectFile } from './project-file.ts';
import type { DecodedProject } from './project-format.ts';
import { ID } from './schema-checks.ts';

/** What a recovery file belongs to; stored next to it as `<id>.json`. */
interface RecoveryMeta {
  id: string;
  projectPath: string | null;
  prompt: string;
  resultCount: number;
}

/**
 * Autosaved copies of unsaved work, one per project (named by document id) in a folder under userData.
 * Each copy is an ordinary .atelier file, written atomically like a save. Its meta file is written first and
 * its time is the .atelier file's mtime, so a crash between the two writes never pairs data with a newer time.
 */
export class RecoveryStore {
  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
  ) {}

  async write(
    document: ProjectDocument,
    images: ReadonlyMap<ImageHash, Uint8Array>,
    projectPath: string | null,
  ): Promise<void> {
    const meta: RecoveryMeta = {
      id: document.id,
      projectPath,
      prompt: document.workspace.prompt,
      resultCount: document.results.length,
    };
    await this.fs.makeDir(this.dir);
    await writeFileAtomic(this.fs, this.#file(document.id, 'json'), [Buffer.from(JSON.stringify(meta), 'utf8')]);
    await writeProjectFile(this.fs, this.#file(document.id, 'atelier'), document, images);
  }

  /**
   * Recovery files newer than their project's last save, newest first. Stale ones (the project was saved
   * afterwards, e.g. the app died between a save and the cleanup) are deleted here, since nothing would offer them.
   */
  async list(exclude: ReadonlySet<string>): Promise<RecoverableProject[]> {
    const found: RecoverableProject[] = [];
    for (const name of await this.fs.list(this.dir)) {
      const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : null;
      if (id === null || !ID.test(id) || exclude.has(id)) continue;
      const meta = await this.#meta(id);
      const copy = await this.fs.stat(this.#file(id, 'atelier'));
      if (!meta || !copy) continue;
      const saved = meta.projectPath === null ? null : await this.fs.stat(meta.projectPath).catch(() => null);
      if (saved && saved.mtimeMs >= copy.mtimeMs) {
        await this.discard(id);
        continue;
      }
      found.push({
        id,
        projectPath: meta.projectPath,
        autosavedAt: new Date(copy.mtimeMs).toISOString(),
        savedAt: saved ? new Date(saved.mtimeMs).toISOString() : null,
        prompt: meta.prompt,
        resultCount: meta.resultCount,
      });
    }
    return found.sort((a, b) => b.autosavedAt.localeCompare(a.autosavedAt));
  }

  async read(id: string): Promise<{ projectPath: string | null; project: DecodedProject }> {
    const meta = await this.#meta(id);
    const copy = meta && (await this.fs.stat(this.#file(id, 'atelier')));
    if (!meta || !copy)
      throw new ProjectError('not-found', 'no-recovery', `no recovered work for project ${id}`, { id });
    return { projectPath: meta.projectPath, project: await readProjectFile(this.fs, this.#file(id, 'atelier')) };
  }

  async discard(id: string): Promise<void> {
    await this.fs.remove(this.#file(id, 'atelier'));
    await this.fs.remove(this.#file(id, 'json'));
  }

  /** Ids become file names: anything but the id alphabet could escape the folder. */
  #file(id: string, ext: 'json' | 'atelier'): string {
    if (!ID.test(id)) throw new ProjectError('invalid-request', 'bad-name', `"${id}" is not a project id`, { id });
    return join(this.dir, `${id}.${ext}`);
  }

  /** null for a missing or unreadable meta file: an interrupted first autosave, nothing to offer. */
  async #meta(id: string): Promise<RecoveryMeta | null> {
    try {
      const meta = JSON.parse(
        Buffer.from(await this.fs.readFile(this.#file(id, 'json'))).toString('utf8'),
      ) as Partial<RecoveryMeta>;
      if (meta.id !== id || typeof meta.prompt !== 'string' || typeof meta.resultCount !== 'number') return null;
      if (meta.projectPath !== null && typeof meta.projectPath !== 'string') return null;
      return { id, projectPath: meta.projectPath, prompt: meta.prompt, resultCount: meta.resultCount };
    } catch {
      return null;
    }
  }
}
