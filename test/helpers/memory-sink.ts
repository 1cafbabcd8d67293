import type { BodySink } from '../../src-main/services/models/http-connection.ts';

/**
 * A BodySink that keeps everything in memory. `spaceBytes` sizes each space it offers (0: none, until room() is
 * called, which resolves on a later tick), so tests can starve the reader the way a busy disk does.
 */
export class MemorySink implements BodySink {
  readonly #chunks: Buffer[] = [];
  #space: Buffer | null = null;
  #offers = 0;
  /** Once it has offered no space, none until room() resolves: the contract a reader relies on. */
  #starved = false;
  received = 0;

  constructor(
    readonly limit = Number.POSITIVE_INFINITY,
    private readonly spaceBytes: (offer: number) => number = () => 16 * 1024,
  ) {}

  get wanted(): number {
    return this.limit - this.received;
  }

  space(): Uint8Array | null {
    if (this.#space || this.#starved) return this.#space;
    const bytes = this.spaceBytes(this.#offers++);
    this.#space = bytes > 0 ? Buffer.alloc(bytes) : null;
    this.#starved = this.#space === null;
    return this.#space;
  }

  commit(n: number): void {
    if (!this.#space || n > this.#space.byteLength) throw new Error(`commit(${n}) without that much space`);
    this.#chunks.push(Buffer.from(this.#space.subarray(0, n)));
    this.received += n;
    this.#space = null;
  }

  room(): Promise<void> {
    if (!this.#starved) return Promise.resolve();
    return new Promise((resolve) =>
      setImmediate(() => {
        this.#starved = false;
        resolve();
      }),
    );
  }

  bytes(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  text(): string {
    return this.bytes().toString('latin1');
  }
}
