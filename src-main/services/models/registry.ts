import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { IpcError } from '../../ipc/contract.ts';
import { ModelError, fromFsError } from './model-error.ts';
import type { ExpectedFile } from './verify.ts';

/**
 * States kept on disk. 'downloading' and 'verifying' exist only while a process works on the model, so a model
 * whose download was killed reads back as 'paused' and resumes; it never claims to be in progress forever.
 */
export type StoredState = 'paused' | 'ready' | 'damaged';

export interface RegistryEntry {
  repo: string;
  revision: string;
  /** Commit the files came from; null for a plain folder imported without hub checksums. */
  commit: string | null;
  /** Folder name under the models folder (one path segment). */
  folder: string;
  state: StoredState;
  source: 'download' | 'import';
  /** Where the reference checksums came from: the hub listing, the hub cache's blob names, or computed at import. */
  checksums: 'hub' | 'hub-cache' | 'local';
  files: ExpectedFile[];
  /** Paths whose bytes were checked against `files` (lets a resume skip re-hashing finished files). */
  verified: string[];
  updatedAt: string;
  error?: IpcError;
  damagedFiles?: string[];
}

interface RegistryDoc {
  formatVersion: 1;
  models: RegistryEntry[];
}

export const REGISTRY_FILE = 'atelier-models.json';

/** The installed models of one models folder, persisted as JSON in that folder. */
export class ModelRegistry {
  readonly path: string;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly modelsDir: string) {
    this.path = join(modelsDir, REGISTRY_FILE);
  }

  async list(): Promise<RegistryEntry[]> {
    return (await this.read()).models;
  }

  async get(repo: string): Promise<RegistryEntry | undefined> {
    return (await this.list()).find((m) => m.repo === repo);
  }

  /**
   * Read-modify-write of one entry, serialized within the process; the file is replaced atomically, so a crash
   * leaves either the old or the new registry. `change` returning undefined removes the entry; returning
   * `current` itself writes nothing.
   */
  update(
    repo: string,
    change: (current: RegistryEntry | undefined) => RegistryEntry | undefined,
  ): Promise<RegistryEntry | undefined> {
    const run = this.#queue.then(async () => {
      const doc = await this.read();
      const current = doc.models.find((m) => m.repo === repo);
      const next = change(current);
      if (next === current) return current; // nothing changed: leave the file alone
      const models = doc.models.filter((m) => m.repo !== repo);
      if (next) models.push({ ...next, updatedAt: new Date().toISOString() });
      models.sort((a, b) => a.repo.localeCompare(b.repo));
      await this.write({ formatVersion: 1, models });
      return next && models.find((m) => m.repo === repo);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<RegistryDoc> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { formatVersion: 1, models: [] };
      throw fromFsError(e, this.path, 'reading');
    }
    let doc: Partial<RegistryDoc>;
    try {
      doc = JSON.parse(text) as Partial<RegistryDoc>;
    } catch (e) {
      throw new ModelError(
        'corrupt',
        `the model registry ${this.path} is not valid JSON; move it away and import the models again`,
        { path: this.path },
        { cause: e },
      );
    }
    if (doc.formatVersion !== 1 || !Array.isArray(doc.models) || !doc.models.every(isEntry)) {
      throw new ModelError(
        'corrupt',
        `the model registry ${this.path} has an unknown format (version ${String(doc.formatVersion)})`,
        { path: this.path },
      );
    }
    return doc as RegistryDoc;
  }

  private async write(doc: RegistryDoc): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      await mkdir(this.modelsDir, { recursive: true });
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(`${JSON.stringify(doc, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw fromFsError(e, this.path, 'saving');
    }
  }
}

function isEntry(v: unknown): v is RegistryEntry {
  const e = v as Partial<RegistryEntry>;
  // The folder is deleted on remove: it must be one plain segment inside the models folder, whatever the file says.
  return (
    typeof e?.repo === 'string' &&
    typeof e.folder === 'string' &&
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(e.folder) &&
    !e.folder.includes('..') &&
    Array.isArray(e.files) &&
    Array.isArray(e.verified) &&
    (e.state === 'paused' || e.state === 'ready' || e.state === 'damaged')
  );
}
