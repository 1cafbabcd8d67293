import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';

/** A file opened for writing; `write` writes all of `data` or throws. */
export interface WritableFile {
  write(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file operations projects need. Production uses nodeFileSystem; tests wrap it to inject the failures a
 * machine cannot be made to produce on demand (a full disk, a read-only volume when running as root, a crash).
 */
export interface FileSystem {
  readFile(path: string): Promise<Uint8Array>;
  /** Creates the file; fails if it exists (temp names must never clobber anything). */
  createExclusive(path: string): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** null when nothing is there. */
  stat(path: string): Promise<{ sizeBytes: number; mtimeMs: number; isFile: boolean } | null>;
  /** Entry names; an empty list when the folder does not exist. */
  list(dir: string): Promise<string[]>;
  makeDir(dir: string): Promise<void>;
  /** Flushes a folder's entries, so a rename survives power loss. Best effort: not every platform allows it. */
  syncDir(dir: string): Promise<void>;
}

export const nodeFileSystem: FileSystem = {
  readFile: async (path) => readFile(path),
  async createExclusive(path) {
    const handle = await open(path, 'wx');
    return {
      async write(data) {
        // FileHandle.write may write less than asked (large buffers, some file systems); loop until done.
        for (let at = 0; at < data.byteLength;) at += (await handle.write(data, at, data.byteLength - at)).bytesWritten;
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async stat(path) {
    try {
      const s = await stat(path);
      return { sizeBytes: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile() };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  },
  makeDir: async (dir) => {
    await mkdir(dir, { recursive: true });
  },
  async syncDir(dir) {
    // Windows cannot open a folder for fsync (EISDIR/EPERM); there the rename is already durable enough.
    const handle = await open(dir, 'r').catch(() => null);
    if (!handle) return;
    try {
      await handle.sync().catch(() => undefined);
    } finally {
      await handle.close();
    }
  },
};
