/**
 * Collects received chunks into batches and writes one batch while the next one is being received, so the disk
 * and the network work at the same time. `onWritten` hears of a batch only once it is on disk: what it records
 * (the range journal, progress) always describes bytes in the file, which is what a resume after a failure relies on.
 * A batch is written when it is full or, on a slow connection, once its first chunk has waited `maxDelayMs`, so
 * progress and the journal keep moving however slowly the bytes arrive.
 */
export class BatchWriter {
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #pendingSince = 0;
  #inFlight: Promise<void> = Promise.resolve();
  #error: { error: unknown } | null = null;
  #nextWrite: number;
  /** End of the bytes on disk (the writer starts at `offset`). */
  written: number;
  /** End of the bytes accepted: on disk, being written, or waiting. */
  queued: number;

  constructor(
    private readonly write: (chunks: Uint8Array[], position: number) => Promise<void>,
    offset: number,
    private readonly onWritten: (start: number, end: number) => void,
    private readonly batchBytes: number,
    private readonly maxDelayMs = 250,
  ) {
    this.written = offset;
    this.queued = offset;
    this.#nextWrite = offset;
  }

  /** Takes a chunk; waits only when a full batch has to queue behind the previous write (backpressure). */
  async push(chunk: Uint8Array): Promise<void> {
    if (this.#pendingBytes === 0) this.#pendingSince = performance.now();
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    this.queued += chunk.byteLength;
    if (this.#pendingBytes >= this.batchBytes || performance.now() - this.#pendingSince >= this.maxDelayMs) {
      await this.#startWrite();
    }
  }

  /** Writes whatever is waiting and resolves when everything is on disk; rethrows a write failure. */
  async finish(): Promise<void> {
    await this.#startWrite();
    await this.#inFlight;
    this.#rethrow();
  }

  /** Waits for the write in progress without writing more (before giving up on a connection). */
  async settle(): Promise<void> {
    await this.#inFlight;
  }

  async #startWrite(): Promise<void> {
    await this.#inFlight;
    this.#rethrow();
    if (this.#pendingBytes === 0) return;
    const batch = this.#pending;
    const start = this.#nextWrite;
    const end = start + this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#nextWrite = end;
    // The failure is kept and rethrown by the next call, so it is never an unhandled rejection meanwhile.
    this.#inFlight = this.write(batch, start).then(
      () => {
        this.written = end;
        this.onWritten(start, end);
      },
      (error: unknown) => {
        this.#error = { error };
      },
    );
  }

  #rethrow(): void {
    if (this.#error) throw this.#error.error;
  }
}
