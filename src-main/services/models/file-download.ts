import { rename, rm, stat } from 'node:fs/promises';
import { BatchWriter } from './batch-writer.ts';
import { fsSink, type FileSink } from './file-sink.ts';
import { httpGet, type HttpResponse } from './http-get.ts';
import { httpError, networkError } from './hub-client.ts';
import { ModelError, cancelled, fromFsError } from './model-error.ts';
import { DEFAULT_RETRY, backoffMs, sleep, type RetryPolicy } from './retry.ts';
import { StallWatchdog } from './stall-watchdog.ts';
import { FileHasher, checksumError, hashInto, type ExpectedFile } from './verify.ts';

export interface FileDownloadOptions {
  /** The resolve URL; redirects (to the CDN) are followed. */
  url: string;
  headers?: Record<string, string>;
  /** Final path. Bytes go to `${dest}.part` and are renamed into place only after size and checksum match. */
  dest: string;
  expected: ExpectedFile;
  signal: AbortSignal;
  sink?: FileSink;
  stallMs?: number;
  retry?: RetryPolicy;
  /** Full re-downloads after a checksum failure before giving up (a mirror serving bad bytes stays bad). */
  maxChecksumRetries?: number;
  /** Bytes of this file on disk so far; may go down when a server forces a restart. */
  onProgress?(doneBytes: number): void;
  onNotice?(notice: DownloadNotice): void;
}

export type DownloadNotice =
  | { kind: 'retry'; path: string; reason: string; delayMs: number }
  | { kind: 'restart'; path: string; reason: string }
  | { kind: 'checksum-failed'; path: string; reason: string };

export const DEFAULT_STALL_MS = 30_000;
// Large enough that syscalls do not matter, small enough that a killed process loses little and progress is smooth.
const BATCH_BYTES = 256 * 1024;

/** Downloads one file resumably and verifies it; on return `dest` holds exactly the expected bytes. */
export async function downloadFile(o: FileDownloadOptions): Promise<void> {
  const part = `${o.dest}.part`;
  const policy = o.retry ?? DEFAULT_RETRY;
  const state: AttemptState = { hasher: null, received: 0 };
  let checksumFailures = 0;
  let failures = 0;
  for (;;) {
    state.received = 0;
    try {
      const hasher = await attempt(o, part, state);
      const problem = hasher.problem();
      if (!problem) {
        await rename(part, o.dest).catch((e: unknown) => { throw fromFsError(e, o.dest, 'moving into place'); });
        return;
      }
      // Never used: the bad bytes are deleted and the whole file is fetched again.
      await rm(part, { force: true });
      state.hasher = null;
      o.onProgress?.(0);
      if (++checksumFailures > (o.maxChecksumRetries ?? 2)) throw checksumError(problem);
      o.onNotice?.({ kind: 'checksum-failed', path: o.expected.path, reason: problem.message });
    } catch (e) {
      if (o.signal.aborted) throw cancelled(`download of ${o.expected.path}`);
      if (!(e instanceof ModelError) || !e.retryable) throw e;
      // Count only failures in a row that brought no bytes: a long download on a flaky line keeps going.
      failures = state.received > 0 ? 1 : failures + 1;
      if (failures >= policy.attempts) throw e;
      const delayMs = backoffMs(failures, policy);
      o.onNotice?.({ kind: 'retry', path: o.expected.path, reason: e.message, delayMs });
      await sleep(delayMs, o.signal);
    }
  }
}

interface AttemptState {
  /** Hash of exactly the bytes in the .part file, kept across attempts so a resume does not re-read them. */
  hasher: FileHasher | null;
  received: number;
}

async function attempt(o: FileDownloadOptions, part: string, state: AttemptState): Promise<FileHasher> {
  const { size, path } = o.expected;
  let offset = await fileSize(part);
  if (offset > size) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (!state.hasher || state.hasher.bytes !== offset) {
    state.hasher = new FileHasher(o.expected);
    if (offset > 0) await hashInto(state.hasher, part, offset, { signal: o.signal });
  }
  o.onProgress?.(offset);
  if (offset === size) return state.hasher;

  const connection = new AbortController();
  const onAbort = () => connection.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  const watchdog = new StallWatchdog(o.stallMs ?? DEFAULT_STALL_MS, () => connection.abort());
  const fail = (e: unknown): unknown => {
    if (o.signal.aborted) return cancelled(`download of ${path}`);
    if (watchdog.fired) return new ModelError('stalled', `no data for ${(watchdog.stallMs / 1000).toFixed(1)} s while downloading ${path}`, { path });
    return e instanceof ModelError ? e : networkError(e, o.url);
  };
  try {
    const res = await httpGet(o.url, { headers: { ...o.headers, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, signal: connection.signal });
    watchdog.touch();
    const start = await acceptResponse(res, o, part, state, offset);
    await writeBody(res.body, { o, part, mode: start > 0 ? 'append' : 'truncate', offset: start, state, watchdog });
  } catch (e) {
    throw fail(e);
  } finally {
    watchdog.stop();
    o.signal.removeEventListener('abort', onAbort);
  }
  return state.hasher;
}

/** Decides where the response's bytes go: the byte offset to write them at (0 = the file starts over). */
async function acceptResponse(res: HttpResponse, o: FileDownloadOptions, part: string, state: AttemptState, offset: number): Promise<number> {
  const { path } = o.expected;
  if (res.status === 200) {
    if (offset === 0) return 0;
    // The server ignored Range: take the full body and start the file over, cleanly.
    o.onNotice?.({ kind: 'restart', path, reason: `server ignored the range request at byte ${offset}` });
    state.hasher = new FileHasher(o.expected);
    o.onProgress?.(0);
    return 0;
  }
  if (res.status === 206 && rangeStart(res.header('content-range')) === offset) return offset;
  res.discard();
  if (res.status === 206 || res.status === 416) {
    await restartFile(part, state);
    throw new ModelError('network', `server could not resume ${path} at byte ${offset} (HTTP ${res.status}, ${res.header('content-range')}); starting it over`, { path });
  }
  throw httpError(res.status, o.url, path);
}

interface BodyTarget {
  o: FileDownloadOptions;
  part: string;
  mode: 'append' | 'truncate';
  offset: number;
  state: AttemptState;
  watchdog: StallWatchdog;
}

async function writeBody(body: AsyncIterable<Uint8Array>, t: BodyTarget): Promise<void> {
  const { o, part, state } = t;
  const { size, path } = o.expected;
  const file = await (o.sink ?? fsSink).open(part, t.mode).catch((e: unknown) => { throw fromFsError(e, part, 'opening'); });
  const writer = new BatchWriter(
    (chunks) => file.write(chunks).catch((e: unknown) => { throw fromFsError(e, part, 'writing'); }),
    state.hasher!, t.offset, (written) => o.onProgress?.(written), BATCH_BYTES,
  );
  let streamError: unknown = null;
  try {
    for await (const chunk of body) {
      t.watchdog.touch();
      state.received += chunk.byteLength;
      await writer.push(chunk);
      // More bytes than the listing promised: the content is wrong; stop reading, verification rejects it.
      if (writer.queued > size) break;
    }
  } catch (e) {
    streamError = e;
  }
  try {
    // After a dropped connection the bytes already received are still good: keep them for the resume.
    if (streamError instanceof ModelError) await writer.settle();
    else await writer.finish();
  } finally {
    await file.close().catch((e: unknown) => { throw fromFsError(e, part, 'closing'); });
  }
  if (streamError) throw streamError;
  if (writer.written < size) {
    throw new ModelError('network', `connection closed after ${writer.written} of ${size} bytes of ${path}`, { path, written: writer.written, size });
  }
}

async function restartFile(part: string, state: AttemptState): Promise<void> {
  await rm(part, { force: true });
  state.hasher = null;
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return 0;
    throw e;
  });
}

/** First byte of `Content-Range: bytes 100-199/200`; -1 when absent or malformed. */
function rangeStart(header: string | null): number {
  const m = header ? /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header.trim()) : null;
  return m ? Number(m[1]) : -1;
}
