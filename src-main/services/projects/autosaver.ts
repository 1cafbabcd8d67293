import type { AutosaveState, ImageHash, ProjectDocument } from '../../ipc/contract.ts';
import type { RecoveryStore } from './recovery-store.ts';

export interface AutosaveSnapshot {
  document: ProjectDocument;
  images: ReadonlyMap<ImageHash, Uint8Array>;
  projectPath: string | null;
}

/**
 * Writes the latest snapshot of unsaved work to the recovery folder: within `intervalMs` of the first change
 * (later changes in that window replace the snapshot, so at most one write per interval), or at once on demand.
 * Writes run one at a time, so a save's cleanup can never be overtaken by an older autosave.
 */
export class Autosaver {
  #pending: (AutosaveSnapshot & { seq: number }) | null = null;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #chain: Promise<void> = Promise.resolve();
  #last: { id: string; at: Date } | null = null;
  /** Projects autosaved by this process: their recovery files are ours, not leftovers of a crash. */
  readonly ownIds = new Set<string>();

  constructor(
    private readonly recovery: RecoveryStore,
    private readonly intervalMs: () => number,
    private readonly onBackgroundError: (e: unknown) => void,
    private readonly now: () => Date,
  ) {}

  async submit(snapshot: AutosaveSnapshot, immediate: boolean): Promise<AutosaveState> {
    const previous = this.#pending;
    if (previous && previous.document.id !== snapshot.document.id) {
      // Another project was opened without closing this one: its unsaved work still goes to disk.
      this.#enqueue(() => this.#write(previous)).catch(this.onBackgroundError);
    }
    this.#pending = { ...snapshot, seq: ++this.#seq };
    if (immediate) {
      this.#clearTimer();
      await this.flush();
    } else if (this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.flush().catch(this.onBackgroundError);
      }, this.intervalMs());
      this.#timer.unref(); // a pending autosave must not keep the CLI or a test process alive
    }
    return this.state(snapshot.document.id);
  }

  /** Writes the pending snapshot, if any; a failed write keeps it pending for the next try. */
  flush(): Promise<void> {
    return this.#enqueue(async () => {
      const snapshot = this.#pending;
      if (snapshot === null) return;
      this.#pending = null;
      try {
        await this.#write(snapshot);
      } catch (e) {
        this.#pending ??= snapshot;
        throw e;
      }
    });
  }

  /** Identifies the snapshots submitted so far; pass it to discard to keep anything submitted later. */
  mark(): number {
    return this.#seq;
  }

  /**
   * Deletes the project's recovery file once its work is safe (saved) or unwanted (discarded, closed). Pending
   * work submitted after `upTo` (changes made while a save ran) stays pending and is written afterwards.
   */
  discard(id: string, upTo = Infinity): Promise<void> {
    if (this.#pending && this.#pending.document.id === id && this.#pending.seq <= upTo) {
      this.#clearTimer();
      this.#pending = null;
    }
    if (this.#last?.id === id) this.#last = null;
    return this.#enqueue(() => this.recovery.discard(id));
  }

  state(id: string): AutosaveState {
    return {
      lastAutosavedAt: this.#last?.id === id ? this.#last.at.toISOString() : null,
      pending: this.#pending?.document.id === id,
    };
  }

  async #write(snapshot: AutosaveSnapshot): Promise<void> {
    await this.recovery.write(snapshot.document, snapshot.images, snapshot.projectPath);
    this.ownIds.add(snapshot.document.id);
    this.#last = { id: snapshot.document.id, at: this.now() };
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined); // one failed write must not block the ones after it
    return run;
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
