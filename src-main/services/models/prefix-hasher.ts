import { Worker } from 'node:worker_threads';
import { cancelled } from './model-error.ts';
import { digestProblem, type ExpectedFile, type FileProblem } from './verify.ts';

// Bytes one request to the hashing thread covers at most, so that closing it never waits long.
const JOB_BYTES = 64 * 1024 * 1024;

// The hashing thread, in plain JavaScript so that it needs no build entry of its own. It reads the file back (from
// the page cache: the bytes were just written) and keeps the running digests, as FileHasher does in verify.ts.
const HASH_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const { path, size, sha256, git } = workerData;
const fresh = () => ({ sha256: sha256 ? createHash('sha256') : null, git: git ? createHash('sha1').update('blob ' + size + '\\0') : null, bytes: 0 });
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
let state = fresh();
let fd = null;
parentPort.on('message', (m) => {
  try {
    if (m.kind === 'close') {
      if (fd !== null) closeSync(fd);
      parentPort.close();
    } else if (m.kind === 'reset') {
      state = fresh();
      parentPort.postMessage({ kind: 'hashed', bytes: 0 });
    } else if (m.kind === 'digest') {
      parentPort.postMessage({ kind: 'digests', sha256: state.sha256 && state.sha256.digest('hex'), gitOid: state.git && state.git.digest('hex') });
    } else {
      if (fd === null) fd = openSync(path, 'r');
      while (state.bytes < m.to) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, m.to - state.bytes), state.bytes);
        if (n === 0) throw new Error(path + ' ended at byte ' + state.bytes + ' while hashing');
        const chunk = buf.subarray(0, n);
        if (state.sha256) state.sha256.update(chunk);
        if (state.git) state.git.update(chunk);
        state.bytes += n;
      }
      parentPort.postMessage({ kind: 'hashed', bytes: state.bytes });
    }
  } catch (e) {
    parentPort.postMessage({ kind: 'error', message: String((e && e.message) || e), code: e && e.code });
  }
});
`;

type Reply =
  | { kind: 'hashed'; bytes: number }
  | { kind: 'digests'; sha256?: string; gitOid?: string }
  | { kind: 'error'; message: string; code?: string };

/**
 * Hashes a file that is being written out of order, in order, as the run of bytes from 0 grows, on a thread of its
 * own: sha256 costs about as much CPU as receiving the bytes, and on the event loop it slowed the transfer (measured
 * with scripts/bench-download.ts). When the last byte lands only the last regions remain to hash. One 4 MiB read
 * buffer, whatever the file size. Call result() or close() to end the thread.
 */
export class PrefixHasher {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #hashed = 0;
  #available = 0;
  #busy = false;
  #closed = false;
  #digests: { sha256?: string; gitOid?: string } | null = null;
  #error: Error | null = null;
  #waiters: (() => void)[] = [];

  constructor(
    path: string,
    private readonly expected: ExpectedFile,
    private readonly signal: AbortSignal,
  ) {
    this.#worker = new Worker(HASH_THREAD, {
      eval: true,
      workerData: {
        path,
        size: expected.size,
        sha256: Boolean(expected.sha256 || !expected.gitOid),
        git: Boolean(expected.gitOid),
      },
    });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('message', (m: Reply) => this.#onReply(m));
    this.#worker.on('error', (e) => {
      this.#error = e;
      this.#wake();
    });
    this.#worker.once('exit', () => this.#wake());
  }

  /** Bytes hashed so far. */
  get hashed(): number {
    return this.#hashed;
  }

  /** The file's bytes [0, end) are on disk: hash them in the background. */
  advance(end: number): void {
    if (end <= this.#available) return;
    this.#available = end;
    this.#kick();
  }

  /** The file starts over: forget what was hashed. */
  async reset(): Promise<void> {
    this.#available = 0;
    await this.#until(() => !this.#busy);
    this.#busy = true;
    this.#worker.postMessage({ kind: 'reset' });
    await this.#until(() => !this.#busy);
  }

  /** Once the whole file is on disk: null when size and digest match, otherwise the reason. Ends the thread. */
  async result(): Promise<FileProblem | null> {
    try {
      this.advance(this.expected.size);
      await this.#until(() => !this.#busy && this.#hashed >= this.#available);
      this.#worker.postMessage({ kind: 'digest' });
      await this.#until(() => this.#digests !== null);
      const digests = this.#digests!;
      return digestProblem(this.expected, this.#hashed, () => digests);
    } finally {
      await this.close();
    }
  }

  /** Ends the thread (after the piece of hashing it is doing). */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#worker.postMessage({ kind: 'close' });
    }
    await this.#exited;
  }

  #kick(): void {
    if (this.#busy || this.#closed || this.#error || this.#hashed >= this.#available) return;
    this.#busy = true;
    this.#worker.postMessage({ kind: 'hash', to: Math.min(this.#available, this.#hashed + JOB_BYTES) });
  }

  #onReply(m: Reply): void {
    if (m.kind === 'hashed') {
      this.#busy = false;
      this.#hashed = m.bytes;
      this.#kick();
    } else if (m.kind === 'digests') this.#digests = m;
    else {
      this.#busy = false;
      this.#error = Object.assign(new Error(m.message), m.code ? { code: m.code } : {});
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #until(done: () => boolean): Promise<void> {
    const onAbort = () => this.#wake();
    this.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (this.#error) throw this.#error;
        if (this.signal.aborted) throw cancelled('verification');
        if (done()) return;
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }
}
