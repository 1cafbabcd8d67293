import { constants } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SafetensorsFile } from '../../engine/weights/safetensors.ts';
import type { ImportSource } from './import-source.ts';
import { ModelError, cancelled, fromFsError } from './model-error.ts';
import { DownloadProgressTracker, type ProgressListener } from './progress-tracker.ts';
import { repoFolderName } from './repo-id.ts';
import { FileHasher, checksumError, hashInto, type ExpectedFile } from './verify.ts';

export interface ImportOptions {
  modelsDir: string;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

export interface ImportedModel {
  folder: string;
  /** Expected files as recorded for later `verify`: reference checksums, or the sha256 computed now. */
  files: ExpectedFile[];
}

/**
 * Brings an existing folder into the models folder as plain files (hub-cache blobs hard-linked, everything else
 * copied), verifying each file on the way. Everything is staged next to the destination and renamed into
 * place at the end: a file that fails verification leaves the models folder exactly as it was.
 */
export async function importModel(source: ImportSource, o: ImportOptions): Promise<ImportedModel> {
  const folder = repoFolderName(source.repo);
  const dest = join(o.modelsDir, folder);
  const inPlace = resolve(source.root) === resolve(dest);
  if (!inPlace && (await exists(dest))) {
    throw new ModelError(
      'busy',
      `${dest} already exists; remove ${source.repo} first (atelier models remove ${source.repo})`,
      { folder: dest },
    );
  }
  const staging = inPlace ? dest : join(o.modelsDir, `.import-${folder}-${process.pid}`);
  const tracker = new DownloadProgressTracker(
    source.repo,
    source.files.map((f) => f.expected),
    o.onProgress,
    250,
    'importing',
  );
  try {
    if (!inPlace) await rm(staging, { recursive: true, force: true });
    const files: ExpectedFile[] = [];
    for (const { expected, from, isBlob } of source.files) {
      if (o.signal?.aborted) throw cancelled(`import of ${source.repo}`);
      const target = join(staging, expected.path);
      if (!inPlace) await placeFile(from, target, isBlob);
      tracker.start(expected.path);
      files.push(await checkFile(target, expected, o.signal, (n) => tracker.set(expected.path, n)));
      tracker.finish(expected.path);
    }
    if (!inPlace)
      await rename(staging, dest).catch((e: unknown) => {
        throw fromFsError(e, dest, 'moving into place');
      });
    tracker.flush();
    return { folder, files };
  } catch (e) {
    if (!inPlace) await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Hub-cache blobs are hard-linked (instant, no extra space; the cache never modifies a blob in place). Anything
 * else is copied (a reflink where the file system offers one): a hard link to a user's own folder would let an
 * edit there silently change the installed model, and the other way round.
 */
async function placeFile(from: string, to: string, isBlob: boolean): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  if (
    isBlob &&
    (await link(from, to).then(
      () => true,
      () => false,
    ))
  )
    return;
  await copyFile(from, to, constants.COPYFILE_FICLONE).catch((e: unknown) => {
    throw fromFsError(e, to, 'copying');
  });
}

async function checkFile(
  path: string,
  expected: ExpectedFile,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
): Promise<ExpectedFile> {
  const hasher = new FileHasher(expected);
  let done = 0;
  await hashInto(hasher, path, expected.size, { signal, onBytes: (d) => onBytes((done += d)) });
  const problem = hasher.problem();
  if (problem) throw checksumError(problem);
  if (expected.sha256 || expected.gitOid) return expected;
  // No reference from the hub: at least make sure weights are not truncated, then record what we have.
  if (path.endsWith('.safetensors')) {
    try {
      SafetensorsFile.open(path);
    } catch (e) {
      throw new ModelError(
        'checksum-mismatch',
        `${expected.path} is damaged: ${(e as Error).message}`,
        { path: expected.path },
        { cause: e },
      );
    }
  }
  return { ...expected, sha256: hasher.digests().sha256 };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
