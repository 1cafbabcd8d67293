import { extname, isAbsolute } from 'node:path';
import type { OpenedProject, ProjectDocument, SavedProject, SaveProjectRequest } from '../../ipc/contract.ts';
import type { FileSystem } from './file-system.ts';
import { ImagePool } from './image-pool.ts';
import { ProjectError } from './project-errors.ts';
import { readProjectFile, writeProjectFile } from './project-file.ts';
import { PROJECT_EXTENSION, type DecodedProject } from './project-format.ts';
import { emptyDocument } from './empty-document.ts';
import type { RecentProjects } from './recent-projects.ts';

export interface ProjectStoreDeps {
  fs: FileSystem;
  recent: RecentProjects;
  appVersion: string;
  now(): Date;
  newId(): string;
}

/**
 * The one open project: which file it belongs to and its images. New, open, save and save as; every save is
 * atomic, so a failed or interrupted save leaves the previous file exactly as it was.
 */
export class ProjectStore {
  #path: string | null = null;
  readonly images = new ImagePool();

  constructor(private readonly deps: ProjectStoreDeps) {}

  get path(): string | null {
    return this.#path;
  }

  create(): OpenedProject {
    const document = emptyDocument({ id: this.deps.newId(), now: this.deps.now(), appVersion: this.deps.appVersion });
    this.#path = null;
    this.images.replace(new Map());
    return { path: null, source: 'new', document, images: [] };
  }

  /** Reads and verifies the whole file before anything about the open project changes. */
  async open(path: string): Promise<OpenedProject> {
    const project = await readProjectFile(this.deps.fs, path);
    this.deps.recent.add(path);
    return this.adopt(path, project, 'file');
  }

  /** Makes a verified project the open one (also used for a recovered project). */
  adopt(path: string | null, project: DecodedProject, source: OpenedProject['source']): OpenedProject {
    this.#path = path;
    this.images.replace(project.images);
    return { path, source, document: project.document, images: ImagePool.toList(project.images) };
  }

  async save(req: SaveProjectRequest): Promise<SavedProject> {
    if (this.#path === null)
      throw new ProjectError('invalid-request', 'untitled', 'this project has no file yet: use save as');
    return this.#write(this.#path, req);
  }

  async saveAs(path: string, req: SaveProjectRequest): Promise<SavedProject> {
    if (!isAbsolute(path))
      throw new ProjectError('invalid-request', 'bad-name', `"${path}" is not an absolute path`, { path });
    const target = extname(path).toLowerCase() === PROJECT_EXTENSION ? path : `${path}${PROJECT_EXTENSION}`;
    const saved = await this.#write(target, req);
    this.#path = target;
    return saved;
  }

  close(): void {
    this.#path = null;
    this.images.replace(new Map());
  }

  /** The document as it will be stored: stamped with the save time and this app's version. */
  stamp(document: ProjectDocument): ProjectDocument {
    return { ...document, modifiedAt: this.deps.now().toISOString(), appVersion: this.deps.appVersion };
  }

  async #write(path: string, req: SaveProjectRequest): Promise<SavedProject> {
    this.images.add(req.images);
    const images = this.images.select(req.document); // 'missing-image' here, before any byte is written
    const document = this.stamp(req.document);
    const sizeBytes = await writeProjectFile(this.deps.fs, path, document, images);
    this.deps.recent.add(path);
    return { path, modifiedAt: document.modifiedAt, sizeBytes };
  }
}
