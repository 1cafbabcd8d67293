import type { BodySink } from './http-connection.ts';

/**
 * Receives one region of a file into two buffers of its own and writes one while the socket fills the other, so the
 * disk and the network work at the same time and no byte is copied on the way. `onWritten` hears of a batch only
 * once it is on disk: what it records (the range journal, progress) always describes bytes in the file, which is
 * what a resume after a failure relies on. A batch is written when it is full or, on a slow connection, once its
 * first bytes have waited `maxDelayMs`, so progress and the journal keep moving however slowly the bytes arrive.
 * Memory: two batches, whatever the region's size.
 */
export class BatchWriter implements BodySink {
  readonly #free: Buffer[] = [];
  #allocated = 0;
  #current: Buffer | null = null;
  #fill = 0;
  #since = 0;
  /** Full batches in the order they are written, one at a time. */
  #writing: Promise<void> = Promise.resolve();
  #error: { error: unknown } | null = null;
  #roomWaiters: { resolve(): void; reject(e: unknown): void }[] = [];
  #nextWrite: number;
  /** End of the bytes on disk (the writer starts at `offset`). */
  written: number;
  /** End of the bytes accepted: on disk, being written, or waiting. */
  queued: number;

  constructor(
    private readonly write: (chunks: Uint8Array[], position: number) => Promise<void>,
    /** Where the region starts in the file. */
    readonly offset: number,
    /** The region ends here: bytes beyond it are not wanted. */
    private end: number,
    private readonly onWritten: (start: number, end: number) => void,
    private readonly batchBytes: number,
    private readonly maxDelayMs = 250,
  ) {
    this.written = offset;
    this.queued = offset;
    this.#nextWrite = offset;
  }

  get wanted(): number {
    return this.end - this.queued;
  }

  /** Ends the region earlier (another connection takes the rest), never before the bytes already taken; the new end. */
  shrink(end: number): number {
    this.end = Math.max(this.queued, Math.min(this.end, end));
    return this.end;
  }

  space(): Uint8Array | null {
    if (this.#error) return null;
    if (!this.#current) {
      this.#current = this.#free.pop() ?? (this.#allocated < 2 ? this.#allocate() : null);
      this.#fill = 0;
    }
    return this.#current?.subarray(this.#fill) ?? null;
  }

  commit(n: number): void {
    if (n <= 0) return;
    if (this.#fill === 0) this.#since = performance.now();
    this.#fill += n;
    this.queued += n;
    if (this.#fill >= this.batchBytes || this.wanted <= 0 || performance.now() - this.#since >= this.maxDelayMs)
      this.#startWrite();
  }

  room(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error.error);
    if (this.space()) return Promise.resolve();
    return new Promise((resolve, reject) => this.#roomWaiters.push({ resolve, reject }));
  }

  /** Writes whatever is waiting and resolves when everything is on disk; rethrows a write failure. */
  async finish(): Promise<void> {
    this.#startWrite();
    await this.#writing;
    if (this.#error) throw this.#error.error;
  }

  /** Waits for the writes in progress without writing more (before giving up on a connection). */
  async settle(): Promise<void> {
    await this.#writing;
  }

  #allocate(): Buffer {
    this.#allocated++;
    return Buffer.allocUnsafe(this.batchBytes);
  }

  #startWrite(): void {
    const batch = this.#current;
    if (!batch || this.#fill === 0 || this.#error) return;
    const bytes = batch.subarray(0, this.#fill);
    const start = this.#nextWrite;
    const end = start + this.#fill;
    this.#current = null;
    this.#fill = 0;
    this.#nextWrite = end;
    // Chained, so batches reach the disk (and onWritten) in order; a failure is kept and reported by room()/finish(),
    // so it is never an unhandled rejection meanwhile.
    this.#writing = this.#writing.then(async () => {
      if (this.#error) return;
      try {
        await this.write([bytes], start);
        this.written = end;
        this.onWritten(start, end);
      } catch (error) {
        this.#error = { error };
      } finally {
        this.#free.push(batch);
        this.#wakeWaiters();
      }
    });
  }

  #wakeWaiters(): void {
    const waiters = this.#roomWaiters.splice(0);
    for (const w of waiters) {
      if (this.#error) w.reject(this.#error.error);
      else w.resolve();
    }
  }
}
