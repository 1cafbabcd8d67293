import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError, fromFsError } from './model-error.ts';

export const LOCK_FILE = '.atelier-download.lock';

/**
 * One download per model folder across processes (the app and the CLI may both try). The lock holds the owner's
 * pid; a lock whose process is gone (killed) is stale and taken over, which is what makes resume-after-kill work.
 */
export async function acquireDownloadLock(folder: string): Promise<() => Promise<void>> {
  const path = join(folder, LOCK_FILE);
  for (let tries = 0; ; tries++) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(String(process.pid));
      } finally {
        await file.close();
      }
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fromFsError(e, path, 'creating');
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (tries > 0 || (Number.isInteger(owner) && owner > 0 && isAlive(owner))) {
        throw new ModelError('busy', `another Atelier process (pid ${owner}) is already downloading into ${folder}`, {
          folder,
          pid: owner,
        });
      }
      await rm(path, { force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
