import { join } from 'node:path';
import type { InstalledModel, ModelState } from '../../ipc/contract.ts';
import { RangeJournal } from './range-journal.ts';
import type { RegistryEntry } from './registry.ts';
import { referenceDigest, type ExpectedFile } from './verify.ts';
import { weightCacheBytes } from './weight-cache-dir.ts';

/** A registry entry as the UI sees it; `activeState` overrides the stored state while work is in progress. */
export async function describeEntry(
  entry: RegistryEntry,
  modelsDir: string,
  activeState?: ModelState,
  cacheDir?: string,
): Promise<InstalledModel> {
  const folder = join(modelsDir, entry.folder);
  const verified = new Set(entry.verified);
  let doneBytes = 0;
  for (const f of entry.files) {
    doneBytes += verified.has(f.path) ? f.size : await RangeJournal.bytesOnDisk(join(folder, `${f.path}.part`), f);
  }
  const model: InstalledModel = {
    repo: entry.repo,
    state: activeState ?? entry.state,
    revision: entry.revision,
    commit: entry.commit,
    folder,
    source: entry.source,
    checksums: entry.checksums,
    totalBytes: entry.files.reduce((n, f) => n + f.size, 0),
    doneBytes,
    fileCount: entry.files.length,
    verifiedFiles: entry.verified.length,
    updatedAt: entry.updatedAt,
  };
  if (entry.error) model.error = entry.error;
  if (entry.damagedFiles) model.damagedFiles = entry.damagedFiles;
  const cacheBytes = await weightCacheBytes(folder, cacheDir);
  if (cacheBytes > 0) model.cacheBytes = cacheBytes;
  return model;
}

/** A finished file may skip re-hashing only if it was verified against the very checksum the new listing names. */
export function isTrusted(entry: RegistryEntry | undefined, file: ExpectedFile): boolean {
  if (!entry?.verified.includes(file.path)) return false;
  const before = entry.files.find((f) => f.path === file.path);
  const digest = referenceDigest(file);
  return before !== undefined && digest !== null && before.size === file.size && referenceDigest(before) === digest;
}
