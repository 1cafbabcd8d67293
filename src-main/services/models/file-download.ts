import { setMaxListeners } from 'node:events';
import { rename, rm } from 'node:fs/promises';
import { BatchWriter } from './batch-writer.ts';
import { fsSink, type FileSink, type SinkHandle } from './file-sink.ts';
import { ConnectionPool, httpGet, type HttpResponse } from './http-get.ts';
import { httpError, networkError } from './hub-client.ts';
import { ModelError, cancelled, fromFsError } from './model-error.ts';
import { PrefixHasher } from './prefix-hasher.ts';
import { RangeJournal, journalPath, type ByteRange } from './range-journal.ts';
import { DEFAULT_RETRY, backoffMs, sleep } from './retry.ts';
import { StallWatchdog } from './stall-watchdog.ts';
import { checksumError, type ExpectedFile, type FileProblem } from './verify.ts';
import type { RetryPolicy } from './retry.ts';

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
  /** Ranged connections for this file at most (a file under two pieces gets one). */
  connections?: number;
  /** Smallest region one request asks for. */
  pieceBytes?: number;
  /** Bytes of this file on disk so far, all connections together; may go down when a server forces a restart. */
  onProgress?(doneBytes: number): void;
  onNotice?(notice: DownloadNotice): void;
}

export type DownloadNotice =
  | { kind: 'retry'; path: string; reason: string; delayMs: number }
  | { kind: 'restart'; path: string; reason: string }
  | { kind: 'fewer-connections'; path: string; reason: string }
  | { kind: 'checksum-failed'; path: string; reason: string };

export const DEFAULT_STALL_MS = 30_000;
/** Per file. Content delivery networks cap each connection; eight reach a gigabit line even at ~15 MB/s each. */
export const DEFAULT_CONNECTIONS = 8;
export const MAX_CONNECTIONS = 16;
// Files under two pieces take one connection. Pieces far smaller than size / connections let a fast connection
// take over work from a slow one and keep the run of bytes from 0 (which hashing follows) close behind the front.
const MIN_PIECE_BYTES = 16 * 1024 * 1024;
const MAX_PIECE_BYTES = 32 * 1024 * 1024;
// Large enough that syscalls and their promises do not matter, small enough that a killed process loses little and
// progress is smooth. 1 MiB beat 256 KiB uncapped (≈360 against ≈240 MB/s with 8 connections, loaded 2-core machine);
// memory stays bounded at two batches per connection.
const BATCH_BYTES = 1024 * 1024;
// How much a kill may cost each connection, at most, in bytes fetched again: the journal is saved this often.
const JOURNAL_SAVE_MS = 1000;
// A connection whose piece would take longer than this at its pace so far gives most of the rest to one that came
// free. Long against a request's round trip, so that splitting never costs more than it saves.
const STEAL_AFTER_MS = 2000;
// How long a connection is watched before its pace is trusted.
const PACE_WINDOW_MS = 500;
// What a slow connection keeps of its piece when another takes over: about this long of its own pace.
const KEEP_MS = 1000;

/** Downloads one file resumably and verifies it; on return `dest` holds exactly the expected bytes. */
export async function downloadFile(o: FileDownloadOptions): Promise<void> {
  const part = `${o.dest}.part`;
  let checksumFailures = 0;
  for (;;) {
    const problem = await transfer(o, part);
    if (!problem) {
      // Journal first: killed in between, a complete .part without a journal is still read as complete.
      await rm(journalPath(part), { force: true });
      await rename(part, o.dest).catch((e: unknown) => {
        throw fromFsError(e, o.dest, 'moving into place');
      });
      return;
    }
    // Never used: the bad bytes are deleted and the whole file is fetched again.
    await rm(journalPath(part), { force: true });
    await rm(part, { force: true });
    o.onProgress?.(0);
    if (++checksumFailures > (o.maxChecksumRetries ?? 2)) throw checksumError(problem);
    o.onNotice?.({ kind: 'checksum-failed', path: o.expected.path, reason: problem.message });
  }
}

/** Fetches every missing byte of the .part file, flushes it to disk once, and returns its verification. */
async function transfer(o: FileDownloadOptions, part: string): Promise<FileProblem | null> {
  const journal = await RangeJournal.open(part, o.expected).catch((e: unknown) => {
    throw fromFsError(e, part, 'opening');
  });
  const connections = Math.max(1, Math.min(MAX_CONNECTIONS, Math.floor(o.connections ?? DEFAULT_CONNECTIONS)));
  const pieceBytes = o.pieceBytes ?? MIN_PIECE_BYTES;
  const pieces = splitIntoPieces(journal.missing(), connections, pieceBytes);
  await journal.begin(Math.min(connections, pieces.length) <= 1).catch((e: unknown) => {
    throw fromFsError(e, part, 'preparing');
  });
  const file = await (o.sink ?? fsSink).open(part).catch((e: unknown) => {
    throw fromFsError(e, part, 'opening');
  });
  const hasher = new PrefixHasher(part, o.expected, o.signal);
  hasher.advance(journal.prefix);
  o.onProgress?.(journal.doneBytes);
  try {
    await new ParallelTransfer(o, part, { journal, hasher, file, pieces, connections, pieceBytes }).run();
  } catch (e) {
    await hasher.close();
    await file.close({ sync: false }).catch(() => undefined);
    await journal.flush().catch(() => undefined);
    throw e;
  }
  await journal.flush().catch((e: unknown) => {
    throw fromFsError(e, part, 'writing the range journal of');
  });
  // The one fsync of the file runs while the last regions are hashed.
  const [problem] = await Promise.all([
    hasher.result(),
    file.close({ sync: true }).catch((e: unknown) => {
      throw fromFsError(e, part, 'closing');
    }),
  ]);
  return problem;
}

/** A region still to fetch; `start` moves up as its bytes reach the disk, `end` down when another takes its rest. */
interface Piece {
  start: number;
  end: number;
  /** While a response is being read: what receives it (from its offset on), and since when. */
  receiving?: { writer: BatchWriter; since: number };
}

interface TransferParts {
  journal: RangeJournal;
  hasher: PrefixHasher;
  file: SinkHandle;
  pieces: Piece[];
  connections: number;
  pieceBytes: number;
}

/**
 * One pass over the missing regions of a file with several connections. Each connection takes the next piece,
 * fetches it with its own retries and stall watchdog, and takes another until none is left. The first connection
 * goes alone until the server has answered a range request with 206, so a server without ranges meets one request.
 */
class ParallelTransfer {
  readonly #queue: Piece[];
  /** Pieces a connection is fetching. */
  readonly #active = new Set<Piece>();
  readonly #connections: number;
  /** Smallest rest of a piece worth a request of its own. */
  readonly #minSteal: number;
  readonly #inner = new AbortController();
  readonly #workers: Promise<void>[] = [];
  /** Each connection, between pieces, waits here for the next: the pieces reuse their TCP and TLS sessions. */
  readonly #pool = new ConnectionPool();
  #live = 0;
  #rangesConfirmed = false;
  #error: { error: unknown } | null = null;
  #lastSave = Date.now();
  /** The CDN link the hub redirected to: later pieces go there directly, sparing the hub a request each. */
  #direct: string | null = null;

  private readonly journal: RangeJournal;
  private readonly hasher: PrefixHasher;
  private readonly file: SinkHandle;

  constructor(
    private readonly o: FileDownloadOptions,
    private readonly part: string,
    parts: TransferParts,
  ) {
    ({ journal: this.journal, hasher: this.hasher, file: this.file } = parts);
    this.#queue = parts.pieces;
    this.#connections = Math.min(parts.connections, this.#queue.length);
    this.#minSteal = Math.max(1, Math.floor(parts.pieceBytes / 4));
    // Every connection listens for the end of the transfer; more than node's default of ten is expected, not a leak.
    setMaxListeners(MAX_CONNECTIONS + 1, this.#inner.signal);
  }

  async run(): Promise<void> {
    if (this.#queue.length === 0) return;
    const onAbort = () => this.#inner.abort();
    this.o.signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.#spawn();
      // Workers never reject, and the list grows while the first one runs.
      for (let i = 0; i < this.#workers.length; i++) await this.#workers[i];
    } finally {
      this.o.signal.removeEventListener('abort', onAbort);
      this.#pool.close();
    }
    if (this.o.signal.aborted) throw cancelled(`download of ${this.o.expected.path}`);
    if (this.#error) throw this.#error.error;
    if (this.#queue.length > 0)
      throw new ModelError('network', `no connection could fetch the rest of ${this.o.expected.path}`, {
        path: this.o.expected.path,
      });
  }

  #spawn(): void {
    this.#live++;
    this.#workers.push(this.#worker().finally(() => this.#live--));
  }

  async #worker(): Promise<void> {
    try {
      for (let piece = await this.#next(); piece && !this.#inner.signal.aborted; piece = await this.#next()) {
        this.#active.add(piece);
        try {
          if ((await this.#fetchPiece(piece)) === 'refused') return;
        } finally {
          this.#active.delete(piece);
        }
      }
    } catch (error) {
      this.#error ??= { error };
      this.#inner.abort();
    }
  }

  /** The next piece to start or to take over; waits while others are at work, since one of them may slow down. */
  async #next(): Promise<Piece | undefined> {
    for (;;) {
      const piece = this.#queue.shift() ?? this.#steal();
      if (piece || this.#active.size === 0 || this.#inner.signal.aborted) return piece;
      await sleep(PACE_WINDOW_MS / 2, this.#inner.signal).catch(() => undefined);
    }
  }

  /**
   * With no piece left to start, takes over from a slow connection: the one whose piece would take longest, if
   * that is over STEAL_AFTER_MS at its pace so far. It keeps what it receives in KEEP_MS at that pace and the rest
   * becomes a new piece, which is split again if it turns out slow too. A connection the CDN serves slowly then
   * no longer holds up the end of the file; on a fast link nothing is split and no request is added. Only once
   * ranges are confirmed (the rest is a range request).
   */
  #steal(): Piece | undefined {
    if (!this.#rangesConfirmed) return undefined;
    const now = performance.now();
    let victim: { writer: BatchWriter; piece: Piece; keep: number } | undefined;
    let longest = STEAL_AFTER_MS;
    for (const piece of this.#active) {
      const r = piece.receiving;
      if (!r || now - r.since < PACE_WINDOW_MS) continue;
      const bytesPerMs = (r.writer.queued - r.writer.offset) / (now - r.since);
      const left = piece.end - r.writer.queued;
      const keep = Math.ceil(bytesPerMs * KEEP_MS);
      const msLeft = left / Math.max(bytesPerMs, Number.MIN_VALUE);
      if (left - keep >= this.#minSteal && msLeft > longest)
        [victim, longest] = [{ writer: r.writer, piece, keep }, msLeft];
    }
    if (!victim) return undefined;
    const { writer, piece, keep } = victim;
    const end = piece.end;
    // Bytes the victim's writer already holds stay its own.
    piece.end = writer.shrink(writer.queued + keep);
    return piece.end < end ? { start: piece.end, end } : undefined;
  }

  /** Fetches one piece, retrying on its own; failures in a row that brought no byte count against the budget. */
  async #fetchPiece(piece: Piece): Promise<'done' | 'refused'> {
    const policy = this.o.retry ?? DEFAULT_RETRY;
    let failures = 0;
    for (;;) {
      // Another connection may have taken the rest while this one waited to retry.
      if (piece.start >= piece.end) return 'done';
      const before = piece.start;
      try {
        return await this.#request(piece);
      } catch (e) {
        if (this.#inner.signal.aborted || !(e instanceof ModelError) || !e.retryable) throw e;
        failures = piece.start > before ? 1 : failures + 1;
        if (failures >= policy.attempts) throw e;
        const delayMs = backoffMs(failures, policy);
        this.o.onNotice?.({ kind: 'retry', path: this.o.expected.path, reason: e.message, delayMs });
        await sleep(delayMs, this.#inner.signal);
      }
    }
  }

  async #request(piece: Piece): Promise<'done' | 'refused'> {
    const { o } = this;
    const { size, path } = o.expected;
    const whole = piece.start === 0 && piece.end === size;
    const range = piece.end === size ? `bytes=${piece.start}-` : `bytes=${piece.start}-${piece.end - 1}`;
    const connection = new AbortController();
    const onAbort = () => connection.abort();
    this.#inner.signal.addEventListener('abort', onAbort, { once: true });
    const watchdog = new StallWatchdog(o.stallMs ?? DEFAULT_STALL_MS, () => connection.abort());
    try {
      const get = (url: string) =>
        httpGet(url, {
          headers: { ...headersFor(url, o), ...(whole ? {} : { range }) },
          signal: connection.signal,
          pool: this.#pool,
        });
      let res = await get(this.#direct ?? o.url);
      if (this.#direct && LINK_EXPIRED.has(res.status)) {
        // Pre-signed links expire: ask the hub for a fresh one.
        res.discard();
        this.#direct = null;
        res = await get(o.url);
      }
      watchdog.touch();
      if ((await this.#accept(res, piece, whole)) === 'refused') return 'refused';
      await this.#writeBody(res, piece, watchdog);
      return 'done';
    } catch (e) {
      if (o.signal.aborted) throw cancelled(`download of ${path}`);
      if (watchdog.fired)
        throw new ModelError(
          'stalled',
          `no data for ${(watchdog.stallMs / 1000).toFixed(1)} s while downloading ${path}`,
          { path },
        );
      throw e instanceof ModelError ? e : networkError(e, o.url);
    } finally {
      watchdog.stop();
      this.#inner.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Decides whether the response's bytes go to the piece; a server ignoring Range may turn it into the whole file. */
  async #accept(res: HttpResponse, piece: Piece, whole: boolean): Promise<'write' | 'refused'> {
    const { path, size } = this.o.expected;
    if (res.status === 206 && rangeStart(res.header('content-range')) === piece.start) {
      if (res.url !== this.o.url) this.#direct = res.url;
      if (!this.#rangesConfirmed) {
        this.#rangesConfirmed = true;
        for (let i = 1; i < this.#connections; i++) this.#spawn();
      }
      return 'write';
    }
    if (res.status === 200 && whole) return 'write';
    if (res.status === 200) {
      // The server ignored Range. With other connections at work this one bows out and leaves them its piece;
      // alone, it takes the full body and the file starts over, cleanly.
      if (this.#live > 1) {
        res.discard();
        this.#queue.unshift(piece);
        this.o.onNotice?.({
          kind: 'fewer-connections',
          path,
          reason: `the server ignored a range request at byte ${piece.start}; continuing with fewer connections`,
        });
        return 'refused';
      }
      if (this.journal.doneBytes > 0)
        this.o.onNotice?.({ kind: 'restart', path, reason: `server ignored the range request at byte ${piece.start}` });
      this.#queue.length = 0;
      // The hasher first: it may be reading the bytes that the journal's reset cuts off.
      await this.hasher.reset();
      await this.journal.reset().catch((e: unknown) => {
        throw fromFsError(e, this.part, 'restarting');
      });
      this.o.onProgress?.(0);
      piece.start = 0;
      piece.end = size;
      return 'write';
    }
    res.discard();
    if (res.status === 206 || res.status === 416) {
      throw new ModelError(
        'network',
        `server could not resume ${path} at byte ${piece.start} (HTTP ${res.status}, ${res.header('content-range')})`,
        { path },
      );
    }
    throw httpError(res.status, this.o.url, path);
  }

  async #writeBody(res: HttpResponse, piece: Piece, watchdog: StallWatchdog): Promise<void> {
    const { path } = this.o.expected;
    // Ends at the piece: of a longer body (a full body for the first piece, a file longer than listed) only what
    // fits is kept.
    const writer = new BatchWriter(
      (chunks, position) =>
        this.file.write(chunks, position).catch((e: unknown) => {
          throw fromFsError(e, this.part, 'writing');
        }),
      piece.start,
      piece.end,
      (start, end) => this.#written(piece, start, end),
      BATCH_BYTES,
    );
    let streamError: unknown = null;
    piece.receiving = { writer, since: performance.now() };
    try {
      await res.readBody(writer, () => watchdog.touch());
    } catch (e) {
      streamError = e;
    } finally {
      piece.receiving = undefined;
    }
    // After a dropped connection the bytes already received are still good: keep them for the resume.
    if (streamError instanceof ModelError) await writer.settle();
    else await writer.finish();
    if (streamError) throw streamError;
    if (writer.written < piece.end) {
      throw new ModelError(
        'network',
        `connection closed after byte ${writer.written} of ${path} (expected up to ${piece.end})`,
        { path, written: writer.written, size: piece.end },
      );
    }
  }

  /** Bytes [start, end) of the piece are on disk. */
  #written(piece: Piece, start: number, end: number): void {
    piece.start = end;
    this.journal.add(start, end);
    this.hasher.advance(this.journal.prefix);
    this.o.onProgress?.(this.journal.doneBytes);
    if (Date.now() - this.#lastSave >= JOURNAL_SAVE_MS) {
      this.#lastSave = Date.now();
      this.journal.save().catch((error: unknown) => {
        this.#error ??= { error: fromFsError(error, this.part, 'writing the range journal of') };
        this.#inner.abort();
      });
    }
  }
}

const LINK_EXPIRED = new Set([401, 403, 404, 410]);

/** The request headers for `url`: as for a redirect, credentials go to the hub's own origin only. */
function headersFor(url: string, o: FileDownloadOptions): Record<string, string> {
  if (!o.headers || new URL(url).origin === new URL(o.url).origin) return { ...o.headers };
  return Object.fromEntries(Object.entries(o.headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
}

/**
 * Cuts the missing ranges into pieces within the piece bounds, as many as fill every connection an equal number of
 * times: on a link that caps each connection alike they all finish together, instead of a last round in which
 * some connections have nothing left to do (12 pieces on 8 connections ran at 75% of the capped rate).
 */
function splitIntoPieces(missing: readonly ByteRange[], connections: number, minPiece: number): Piece[] {
  const remaining = missing.reduce((n, [a, b]) => n + b - a, 0);
  const rounds = Math.max(1, Math.ceil(remaining / (connections * MAX_PIECE_BYTES)));
  const pieceBytes = Math.max(minPiece, Math.ceil(remaining / (connections * rounds)));
  const pieces: Piece[] = [];
  for (const [start, end] of missing) {
    const count = Math.max(1, Math.round((end - start) / pieceBytes));
    for (let i = 0; i < count; i++)
      pieces.push({
        start: start + Math.floor(((end - start) * i) / count),
        end: start + Math.floor(((end - start) * (i + 1)) / count),
      });
  }
  return pieces;
}

/** First byte of `Content-Range: bytes 100-199/200`; -1 when absent or malformed. */
function rangeStart(header: string | null): number {
  const m = header ? /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header.trim()) : null;
  return m ? Number(m[1]) : -1;
}
