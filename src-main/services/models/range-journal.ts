import { readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { referenceDigest, type ExpectedFile } from './verify.ts';

/** A half-open byte range [start, end). */
export type ByteRange = [start: number, end: number];

interface JournalFile {
  version: 1;
  size: number;
  digest: string | null;
  done: ByteRange[];
}

export const journalPath = (part: string): string => `${part}.ranges`;

/**
 * Which byte ranges of a `.part` file hold downloaded bytes. Several connections write regions of one file, so its
 * length no longer says how much is there; this small file, kept next to it, does. It is written before the first
 * byte of the `.part` file and then only ever claims bytes whose write has completed, so after a kill each range
 * resumes where its bytes end (a power cut can lose bytes the journal claims: the checksum catches that).
 * A `.part` file without a journal comes from a single sequential writer: its length is the range [0, length).
 * That is how one connection extending the run of bytes from 0 works (small files, or the setting at 1): the
 * length is never behind, so a kill loses nothing, and no journal is written.
 */
export class RangeJournal {
  #done: ByteRange[];
  #saving: Promise<void> = Promise.resolve();
  #dirty = false;
  #sequential = false;

  private constructor(
    private readonly part: string,
    private readonly expected: ExpectedFile,
    done: ByteRange[],
  ) {
    this.#done = done;
  }

  /** The journal for `part`, repaired: a journal for other content, or a `.part` longer than the file, starts over. */
  static async open(part: string, expected: ExpectedFile): Promise<RangeJournal> {
    const found = await readRanges(part, expected);
    if (found === null) await rm(part, { force: true });
    return new RangeJournal(part, expected, found ?? []);
  }

  /** Bytes of the file on disk, without changing anything (for listings and the resume estimate). */
  static async bytesOnDisk(part: string, expected: ExpectedFile): Promise<number> {
    return totalBytes((await readRanges(part, expected)) ?? []);
  }

  get done(): readonly ByteRange[] {
    return this.#done;
  }

  get doneBytes(): number {
    return totalBytes(this.#done);
  }

  /** End of the run of bytes that starts at 0. */
  get prefix(): number {
    const first = this.#done[0];
    return first && first[0] === 0 ? first[1] : 0;
  }

  /** The ranges still to fetch. */
  missing(): ByteRange[] {
    const gaps: ByteRange[] = [];
    let pos = 0;
    for (const [start, end] of this.#done) {
      if (start > pos) gaps.push([pos, start]);
      pos = end;
    }
    if (pos < this.expected.size) gaps.push([pos, this.expected.size]);
    return gaps;
  }

  /**
   * Call before the first byte is written. `oneConnection`: the bytes will arrive in order from the end of the run
   * from 0; then the `.part` file is cut to that run and the journal removed. Otherwise the journal is saved now.
   */
  async begin(oneConnection: boolean): Promise<void> {
    if (oneConnection && this.#done.length <= 1 && this.prefix === this.doneBytes) {
      this.#sequential = true;
      await truncate(this.part, this.prefix).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await rm(journalPath(this.part), { force: true });
    } else await this.save();
  }

  /** Records bytes whose write completed. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const merged: ByteRange[] = [];
    let next: ByteRange = [start, end];
    for (const r of this.#done) {
      if (r[1] < next[0]) merged.push(r);
      else if (r[0] > next[1]) {
        merged.push(next);
        next = r;
      } else next = [Math.min(r[0], next[0]), Math.max(r[1], next[1])];
    }
    merged.push(next);
    this.#done = merged;
    this.#dirty = true;
  }

  /** Forgets every byte (the file starts over). */
  async reset(): Promise<void> {
    this.#done = [];
    if (this.#sequential) await truncate(this.part, 0);
    else await this.save();
  }

  /** Writes the journal (atomically: a torn journal would be worse than an old one); saves never overlap. */
  save(): Promise<void> {
    this.#dirty = false;
    if (this.#sequential) return Promise.resolve();
    const body: JournalFile = {
      version: 1,
      size: this.expected.size,
      digest: referenceDigest(this.expected),
      done: this.#done,
    };
    const path = journalPath(this.part);
    this.#saving = this.#saving.then(async () => {
      await writeFile(`${path}.tmp`, JSON.stringify(body));
      await rename(`${path}.tmp`, path);
    });
    return this.#saving;
  }

  /** Saves only if something changed since the last save. */
  async flush(): Promise<void> {
    if (this.#dirty) await this.save();
    else await this.#saving;
  }

  /** Removes the journal (the file is complete, or is being deleted). */
  async remove(): Promise<void> {
    await this.#saving.catch(() => undefined);
    await rm(journalPath(this.part), { force: true });
  }
}

/** The ranges on disk for `part`; null when what is there must be thrown away. */
async function readRanges(part: string, expected: ExpectedFile): Promise<ByteRange[] | null> {
  const length = await stat(part).then(
    (s) => s.size,
    () => -1,
  );
  if (length < 0) return [];
  if (length > expected.size) return null;
  const text = await readFile(journalPath(part), 'utf8').catch(() => null);
  if (text === null) return length > 0 ? [[0, length]] : [];
  let journal: Partial<JournalFile>;
  try {
    journal = JSON.parse(text) as Partial<JournalFile>;
  } catch {
    return null;
  }
  if (
    journal.version !== 1 ||
    journal.size !== expected.size ||
    journal.digest !== referenceDigest(expected) ||
    !validRanges(journal.done, length)
  )
    return null;
  return journal.done;
}

function validRanges(done: unknown, length: number): done is ByteRange[] {
  if (!Array.isArray(done)) return false;
  let pos = 0;
  for (const r of done) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || !Number.isSafeInteger(r[1])) return false;
    if (r[0] < pos || r[1] <= r[0] || r[1] > length) return false;
    pos = r[1];
  }
  return true;
}

const totalBytes = (ranges: readonly ByteRange[]): number => ranges.reduce((n, [a, b]) => n + b - a, 0);
