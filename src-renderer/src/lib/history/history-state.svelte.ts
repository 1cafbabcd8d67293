import type { ImageHash, JobId, Recipe } from '../../../../src-main/ipc/contract.ts';
import type { Mode } from '../workspace/parameters.ts';

/** One generated image with everything needed to understand, compare and repeat it. */
export interface HistoryItem {
  id: string;
  jobId: JobId;
  image: ImageHash;
  width: number;
  height: number;
  recipe: Recipe;
  /** ISO 8601. */
  createdAt: string;
  /** The images that were sent, in order: the "before" of an edit and the inputs of a re-run. */
  inputs: ImageHash[];
  mode: Mode;
  /** The model folder it ran on. */
  model: string;
}

/** Every result of the session, newest first, and the one on show (in History and on the canvas). */
export class HistoryState {
  items = $state.raw<HistoryItem[]>([]);
  selectedId = $state<string | null>(null);
  readonly selected = $derived(this.items.find((i) => i.id === this.selectedId) ?? this.items[0] ?? null);
  /** The other images of the selected item's run (several images per prompt). */
  readonly siblings = $derived(this.selected ? this.items.filter((i) => i.jobId === this.selected!.jobId) : []);
  /** Called after results were added (`finished`: a run just ended) or removed; the Studio autosaves on it. */
  onChange: (finished: boolean) => void = () => {};

  /** Adds one run's images and shows the first. */
  add(run: readonly HistoryItem[]): void {
    if (run.length === 0) return;
    this.items = [...run, ...this.items];
    this.selectedId = run[0]!.id;
    this.onChange(true);
  }

  /** Another project's results (newest first), without calling onChange. */
  replace(items: readonly HistoryItem[]): void {
    this.items = [...items];
    this.selectedId = null;
  }

  select(id: string): void {
    if (this.items.some((i) => i.id === id)) this.selectedId = id;
  }

  /** Removes an item; the selection moves to its neighbour, so focus has somewhere to go. */
  remove(id: string): void {
    const index = this.items.findIndex((i) => i.id === id);
    if (index < 0) return;
    const wasSelected = this.selected?.id === id;
    this.items = this.items.filter((i) => i.id !== id);
    if (wasSelected) this.selectedId = (this.items[index] ?? this.items[index - 1])?.id ?? null;
    this.onChange(false);
  }
}

/** The recipe as people copy it: readable JSON with the input order spelled out. */
export function recipeText(item: HistoryItem): string {
  return JSON.stringify({ ...item.recipe, mode: item.mode, createdAt: item.createdAt }, null, 2);
}
