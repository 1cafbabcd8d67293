/**
 * Undo and redo over immutable snapshots. Edits that arrive in a burst under the same key (typing in the prompt,
 * dragging a slider) collapse into one step, so one Ctrl+Z undoes a word or a drag, not a keystroke.
 */
export class UndoHistory<T> {
  #past = $state.raw<T[]>([]);
  #future = $state.raw<T[]>([]);
  #lastKey: string | null = null;
  #lastAt = 0;
  readonly canUndo = $derived(this.#past.length > 0);
  readonly canRedo = $derived(this.#future.length > 0);

  constructor(
    private readonly options: { limit: number; coalesceMs: number; now?: () => number } = {
      limit: 200,
      coalesceMs: 1500,
    },
  ) {}

  /** Call before replacing `previous` with a new state. */
  record(previous: T, key: string | null = null): void {
    const now = (this.options.now ?? Date.now)();
    const coalesce = key !== null && key === this.#lastKey && now - this.#lastAt < this.options.coalesceMs;
    this.#lastKey = key;
    this.#lastAt = now;
    this.#future = [];
    if (!coalesce) this.#past = [...this.#past, previous].slice(-this.options.limit);
  }

  /** Forgets every step (another project was opened). */
  clear(): void {
    this.#past = [];
    this.#future = [];
    this.#lastKey = null;
  }

  undo(current: T): T | undefined {
    const previous = this.#past.at(-1);
    if (previous === undefined) return undefined;
    this.#past = this.#past.slice(0, -1);
    this.#future = [...this.#future, current];
    this.#lastKey = null;
    return previous;
  }

  redo(current: T): T | undefined {
    const next = this.#future.at(-1);
    if (next === undefined) return undefined;
    this.#future = this.#future.slice(0, -1);
    this.#past = [...this.#past, current];
    this.#lastKey = null;
    return next;
  }
}
