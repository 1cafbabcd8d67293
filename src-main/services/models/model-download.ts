import { mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkFreeSpace, type FreeSpaceProbe } from './disk-space.ts';
import { acquireDownloadLock } from './download-lock.ts';
import { downloadFile, type DownloadNotice } from './file-download.ts';
import { cancelled } from './model-error.ts';
import type { FileSink } from './file-sink.ts';
import type { HubClient, RepoListing } from './hub-client.ts';
import { RangeJournal } from './range-journal.ts';
import { DownloadProgressTracker, type ProgressListener } from './progress-tracker.ts';
import type { RetryPolicy } from './retry.ts';
import { verifyFile, type ExpectedFile } from './verify.ts';

/** Knobs of the transfer itself; tests shrink the timings and inject faults through them. */
export interface TransferTuning {
  sink?: FileSink;
  stallMs?: number;
  retry?: RetryPolicy;
  maxChecksumRetries?: number;
  /** Files fetched at once; two keeps a CDN connection busy while the other one starts or retries. */
  concurrency?: number;
  /** Ranged connections per large file (the setting `downloadConnections`). */
  connections?: number;
  /** Smallest region one ranged request asks for; files under two of them take one connection. */
  pieceBytes?: number;
  freeSpace?: FreeSpaceProbe;
  progressIntervalMs?: number;
}

export interface RepositoryDownloadOptions extends TransferTuning {
  hub: HubClient;
  repo: string;
  revision: string;
  /** The model's folder; it mirrors the repository layout. */
  folder: string;
  signal: AbortSignal;
  /** True when a finished file was already verified against this same checksum (so it is not re-hashed). */
  isVerified?(file: ExpectedFile): boolean;
  /** Called once the listing is known and the space check passed, before any byte is fetched, with the paths
   *  whose final files are already verified. */
  onStarted?(listing: RepoListing, verifiedPaths: string[]): Promise<void>;
  /** Called after each file is verified and in place. */
  onFileVerified?(file: ExpectedFile): Promise<void>;
  onProgress?: ProgressListener;
  onNotice?(notice: DownloadNotice): void;
}

/**
 * Room for the converted-weight cache: the engine converts the bf16 `.safetensors` weights once into fp16
 * (same size) for GPU providers (ARCHITECTURE.md, "Runtime and weights").
 */
export const estimateCacheBytes = (files: readonly ExpectedFile[]): number =>
  files.filter((f) => f.path.endsWith('.safetensors')).reduce((n, f) => n + f.size, 0);

/** Downloads a whole repository into `folder`, resuming whatever is on disk; every file ends verified. */
export async function downloadRepository(o: RepositoryDownloadOptions): Promise<RepoListing> {
  const listing = await o.hub.listing(o.repo, o.revision, o.signal);
  await mkdir(o.folder, { recursive: true });
  const release = await acquireDownloadLock(o.folder);
  let started = false;
  try {
    const onDisk = await inventory(o, listing.files);
    const missing = listing.files.filter((f) => onDisk.get(f.path) !== 'done');
    const remaining = missing.reduce((n, f) => n + f.size - (onDisk.get(f.path) as number), 0);
    await checkFreeSpace(
      { dir: o.folder, downloadBytes: remaining, cacheBytes: estimateCacheBytes(listing.files) },
      o.freeSpace,
    );
    await o.onStarted?.(
      listing,
      listing.files.filter((f) => onDisk.get(f.path) === 'done').map((f) => f.path),
    );
    started = true;

    const tracker = new DownloadProgressTracker(o.repo, listing.files, o.onProgress, o.progressIntervalMs);
    for (const f of listing.files)
      tracker.set(f.path, onDisk.get(f.path) === 'done' ? f.size : (onDisk.get(f.path) as number));
    for (const f of listing.files) if (onDisk.get(f.path) === 'done') tracker.finish(f.path);
    await runPool(missing, o.concurrency ?? 2, o.signal, async (file, signal) => {
      const dest = join(o.folder, file.path);
      await mkdir(dirname(dest), { recursive: true });
      const url = o.hub.fileUrl(o.repo, listing.commit, file.path);
      tracker.start(file.path);
      await downloadFile({
        url,
        headers: o.hub.headersFor(url),
        dest,
        expected: file,
        signal,
        sink: o.sink,
        stallMs: o.stallMs,
        retry: o.retry,
        maxChecksumRetries: o.maxChecksumRetries,
        connections: o.connections,
        pieceBytes: o.pieceBytes,
        onProgress: (bytes) => tracker.set(file.path, bytes),
        onNotice: (n) => {
          tracker.notice(
            n.kind === 'retry' ? `${n.reason}; retrying in ${Math.ceil(n.delayMs / 1000)} s` : `${n.path}: ${n.reason}`,
          );
          o.onNotice?.(n);
        },
      });
      tracker.finish(file.path);
      await o.onFileVerified?.(file);
    });
    tracker.flush();
    return listing;
  } finally {
    await release();
    // Refused before the first byte (e.g. no disk space): leave no empty folder behind. rmdir keeps a non-empty one.
    if (!started) await rmdir(o.folder).catch(() => undefined);
  }
}

/**
 * What each file has on disk: 'done' when the final file is verified (or trusted from the registry), otherwise the
 * bytes of its .part file (all ranges together). A final file with other content is removed: it belongs to another revision or is damaged.
 */
async function inventory(
  o: RepositoryDownloadOptions,
  files: readonly ExpectedFile[],
): Promise<Map<string, 'done' | number>> {
  const result = new Map<string, 'done' | number>();
  for (const f of files) {
    const dest = join(o.folder, f.path);
    const size = await sizeOf(dest);
    if (size === f.size && (o.isVerified?.(f) || (await verifyFile(o.folder, f, { signal: o.signal })) === null)) {
      result.set(f.path, 'done');
      continue;
    }
    if (size !== null) await rm(dest, { force: true });
    result.set(f.path, await RangeJournal.bytesOnDisk(`${dest}.part`, f));
  }
  return result;
}

async function sizeOf(path: string): Promise<number | null> {
  return stat(path).then(
    (s) => (s.isFile() ? s.size : null),
    () => null,
  );
}

/** Runs `work` over `items`, `limit` at a time; the first failure stops the others and is rethrown. */
async function runPool<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && !inner.signal.aborted) {
      const item = items[next++]!;
      try {
        await work(item, inner.signal);
      } catch (error) {
        errors.push(error);
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (errors.length > 0) throw errors[0];
  if (signal.aborted) throw cancelled('the download');
}
