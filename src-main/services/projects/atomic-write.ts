import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { FileSystem } from './file-system.ts';
import { fromFsError } from './project-errors.ts';

/**
 * Writes `chunks` to `path` so that, whatever happens, `path` holds either its previous bytes or all of the new
 * ones: the data goes to a temp file in the same folder (rename is atomic only within one file system), is
 * flushed to disk, and only then renamed over the target. On failure the temp file is removed and the error is
 * mapped to a ProjectError ('disk-full', 'read-only', 'not-found').
 */
export async function writeFileAtomic(fs: FileSystem, path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const dir = dirname(path);
  // Hidden, unique per attempt, and recognisable as ours if a crash leaves one behind.
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}${TMP_SUFFIX}`);
  let created = false;
  try {
    const file = await fs.createExclusive(tmp);
    created = true;
    try {
      for (const chunk of chunks) await file.write(chunk);
      await file.sync();
    } catch (e) {
      await file.close().catch(() => undefined); // the write error is the one worth reporting
      throw e;
    }
    await file.close();
    await fs.rename(tmp, path);
    created = false;
  } catch (e) {
    if (created) await fs.remove(tmp).catch(() => undefined);
    throw fromFsError(e, path, 'write');
  }
  await fs.syncDir(dir);
  await removeCrashLeftovers(fs, dir, basename(path));
}

const TMP_SUFFIX = '.tmp';

/**
 * Deletes temp files that earlier saves of the same file left when their process died mid-write (they can be
 * as large as the project). A temp file whose process still runs belongs to a save in progress and is kept.
 */
async function removeCrashLeftovers(fs: FileSystem, dir: string, base: string): Promise<void> {
  const prefix = `.${base}.`;
  for (const name of await fs.list(dir).catch(() => [])) {
    if (!name.startsWith(prefix) || !name.endsWith(TMP_SUFFIX)) continue;
    const pid = /^(\d+)-[0-9a-f]{8}$/.exec(name.slice(prefix.length, -TMP_SUFFIX.length))?.[1];
    if (pid !== undefined && !isRunning(Number(pid))) await fs.remove(join(dir, name)).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0 only asks whether the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, but belongs to someone else
  }
}
