import { open, type FileHandle } from 'node:fs/promises';
import { cancelled } from './model-error.ts';
import { FileHasher, type ExpectedFile, type FileProblem } from './verify.ts';

const READ_CHUNK = 4 * 1024 * 1024;

/**
 * Hashes a file that is being written out of order, in order, as the run of bytes from 0 grows: the bytes are read
 * back (from the page cache: they were just written) while later regions are still arriving, so when the last
 * byte lands only the last regions remain to hash. One read buffer, whatever the file size.
 */
export class PrefixHasher {
  #hasher: FileHasher;
  #available = 0;
  #running: Promise<void> | null = null;
  #generation = 0;
  #error: { error: unknown } | null = null;
  #file: FileHandle | null = null;
  readonly #buf = Buffer.allocUnsafe(READ_CHUNK);

  constructor(private readonly path: string, private readonly expected: ExpectedFile, private readonly signal: AbortSignal) {
    this.#hasher = new FileHasher(expected);
  }

  /** Bytes hashed so far. */
  get hashed(): number {
    return this.#hasher.bytes;
  }

  /** The file's bytes [0, end) are on disk: hash them in the background. */
  advance(end: number): void {
    if (end <= this.#available) return;
    this.#available = end;
    this.#kick();
  }

  /** The file starts over: forget what was hashed. */
  async reset(): Promise<void> {
    this.#generation++;
    this.#hasher = new FileHasher(this.expected);
    this.#available = 0;
    this.#error = null;
    while (this.#running) await this.#running;
  }

  /** Once the whole file is on disk: null when size and digest match, otherwise the reason. */
  async result(): Promise<FileProblem | null> {
    this.advance(this.expected.size);
    while (this.#running) await this.#running;
    await this.close();
    if (this.#error) throw this.#error.error;
    return this.#hasher.problem();
  }

  /** Stops reading (hashing resumes, reopening the file, if more bytes are announced). */
  async close(): Promise<void> {
    this.#generation++;
    this.#available = this.#hasher.bytes;
    while (this.#running) await this.#running;
    await this.#file?.close();
    this.#file = null;
  }

  /** Starts hashing unless it runs already; a run that ends looks again, for bytes that came while it closed. */
  #kick(): void {
    if (this.#running || this.#error || this.#hasher.bytes >= this.#available) return;
    this.#running = this.#run(this.#generation).then(() => {
      this.#running = null;
      this.#kick();
    });
  }

  async #run(generation: number): Promise<void> {
    try {
      // One read handle for the whole file, not one per burst of hashing.
      const file = (this.#file ??= await open(this.path, 'r'));
      while (generation === this.#generation && this.#hasher.bytes < this.#available) {
        if (this.signal.aborted) throw cancelled('verification');
        const pos = this.#hasher.bytes;
        const { bytesRead } = await file.read(this.#buf, 0, Math.min(READ_CHUNK, this.#available - pos), pos);
        if (bytesRead === 0) throw new Error(`${this.path} ended at byte ${pos} while hashing`);
        if (generation === this.#generation) this.#hasher.update(this.#buf.subarray(0, bytesRead));
      }
    } catch (error) {
      if (generation === this.#generation) this.#error = { error };
    }
  }
}
