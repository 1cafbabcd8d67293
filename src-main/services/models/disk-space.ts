import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ModelError } from './model-error.ts';

/** Free bytes for an unprivileged user on the volume holding `path` (injected in tests). */
export type FreeSpaceProbe = (path: string) => Promise<number>;

export const statfsFreeBytes: FreeSpaceProbe = async (path) => {
  // The models folder may not exist yet: ask about the nearest existing ancestor (same volume in practice).
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw e;
    }
  }
};

export interface SpaceNeed {
  dir: string;
  /** Bytes still to download (total minus what is already on disk, .part files included). */
  downloadBytes: number;
  /** Room the engine needs afterwards for its converted-weight cache (ARCHITECTURE.md, "Runtime and weights"). */
  cacheBytes: number;
}

/** Throws disk-full naming both numbers (needed and free) before a single byte is fetched. */
export async function checkFreeSpace(need: SpaceNeed, probe: FreeSpaceProbe = statfsFreeBytes): Promise<void> {
  const freeBytes = await probe(need.dir);
  const neededBytes = need.downloadBytes + need.cacheBytes;
  if (freeBytes >= neededBytes) return;
  throw new ModelError(
    'disk-full',
    `not enough disk space in ${need.dir}: ${formatSize(neededBytes)} needed (${formatSize(need.downloadBytes)} still to download + ` +
      `${formatSize(need.cacheBytes)} for the converted-weight cache), ${formatSize(freeBytes)} free`,
    { neededBytes, freeBytes, downloadBytes: need.downloadBytes, cacheBytes: need.cacheBytes, dir: need.dir },
  );
}

/** Decimal units, as disk vendors and file managers count. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  for (; v >= 1000 && i < units.length - 1; i++) v /= 1000;
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
