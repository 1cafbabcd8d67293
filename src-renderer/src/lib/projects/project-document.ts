import type {
  CanvasState,
  Conversation,
  HistoryEntry,
  ImageHash,
  ProjectDocument,
  ProjectInput,
  ProjectResult,
  ReflectionSession,
  Workspace,
} from '../../../../src-main/ipc/contract.ts';
import type { HistoryItem } from '../history/history-state.svelte.ts';
import { IMAGE_GUIDANCE, modeFor } from '../workspace/parameters.ts';
import type { WorkspaceDoc } from '../workspace/workspace-state.svelte.ts';

/** What a project file holds besides its identity and save times: the part whose changes make it unsaved. */
export type ProjectContent = Pick<
  ProjectDocument,
  'workspace' | 'results' | 'history' | 'reflections' | 'conversations'
>;

/** The renderer's state a project is made of (WorkspaceState, HistoryState, reflection sessions). */
export interface ProjectParts {
  doc: WorkspaceDoc;
  seed: number;
  /** The image guidance in effect (the mode's recommended value unless set). */
  imageGuidance: number;
  items: readonly HistoryItem[];
  reflections: readonly ReflectionSession[];
  conversations: readonly Conversation[];
  /** The model folder results were last made with. */
  model: string;
  canvas: CanvasState;
}

export const DEFAULT_CANVAS: CanvasState = { view: 'single', zoom: 1, pan: [0, 0], selectedResultIds: [] };

/** Inputs keep the image as added and its crop; the cropped PNG is made again on opening. */
export function contentOf(p: ProjectParts): ProjectContent {
  const inputs: ProjectInput[] = p.doc.inputs.map((i) => ({ hash: i.source, label: i.name, crop: i.crop }));
  const workspace: Workspace = {
    inputs,
    prompt: p.doc.prompt,
    negativePrompt: p.doc.negativePrompt,
    parameters: { ...p.doc.params, seed: p.seed, imageGuidance: p.imageGuidance },
    model: p.model,
    canvas: p.canvas,
  };
  const results: ProjectResult[] = p.items.map((i) => ({
    id: i.id,
    image: i.image,
    width: i.width,
    height: i.height,
    recipe: i.recipe,
    createdAt: i.createdAt,
    starred: false,
  }));
  return {
    workspace,
    results,
    history: historyOf(p.items, p.reflections),
    reflections: [...p.reflections],
    conversations: [...p.conversations],
  };
}

/** One entry per run, oldest first; a reflection run's entry names its session. */
function historyOf(items: readonly HistoryItem[], reflections: readonly ReflectionSession[]): HistoryEntry[] {
  const runs = new Map<string, HistoryItem[]>();
  for (const item of [...items].reverse()) runs.set(item.jobId, [...(runs.get(item.jobId) ?? []), item]);
  const entries: HistoryEntry[] = [...runs].map(([jobId, run]) => ({
    id: jobId,
    kind: 'generate',
    at: run[0]!.createdAt,
    label: run[0]!.recipe.prompt.slice(0, 200),
    resultIds: run.map((i) => i.id),
    reflectionId: null,
  }));
  const reflected = reflections.map<HistoryEntry>((s) => ({
    id: `r-${s.id}`.slice(0, 64),
    kind: 'reflect',
    at: s.createdAt,
    label: s.prompt.slice(0, 200),
    resultIds: [],
    reflectionId: s.id,
  }));
  return [...entries, ...reflected].sort((a, b) => a.at.localeCompare(b.at));
}

/** A document's results as history items, newest first. */
export function itemsOf(doc: ProjectDocument): HistoryItem[] {
  const byId = new Map(doc.results.map((r) => [r.id, r]));
  const items = doc.history.flatMap((entry) =>
    entry.resultIds.flatMap((id) => {
      const r = byId.get(id);
      return r
        ? [
            {
              id: r.id,
              jobId: entry.id,
              image: r.image,
              width: r.width,
              height: r.height,
              recipe: r.recipe,
              createdAt: r.createdAt,
              inputs: [...r.recipe.inputImages],
              mode: modeFor(r.recipe.inputImages.length),
              model: doc.workspace.model,
            },
          ]
        : [];
    }),
  );
  return items.reverse();
}

/** The WorkspaceState.restore argument of a document's workspace. */
export function workspaceOf(w: Workspace): { inputs: ProjectInput[]; doc: Omit<WorkspaceDoc, 'inputs'>; seed: number } {
  const { seed, imageGuidance, ...params } = w.parameters;
  const mode = modeFor(w.inputs.length);
  return {
    inputs: w.inputs,
    doc: {
      prompt: w.prompt,
      negativePrompt: w.negativePrompt,
      params,
      modeOverride: null,
      imageGuidance: mode === 'text-to-image' || imageGuidance === IMAGE_GUIDANCE[mode].default ? null : imageGuidance,
    },
    seed,
  };
}

/** Every image a project refers to. */
export function imagesOf(c: ProjectContent): Set<ImageHash> {
  const hashes = new Set<ImageHash>(c.workspace.inputs.map((i) => i.hash));
  for (const r of c.results) [r.image, ...r.recipe.inputImages].forEach((h) => hashes.add(h));
  for (const round of c.reflections.flatMap((s) => s.rounds)) {
    [...round.inputImages, ...(round.outputImage ? [round.outputImage] : [])].forEach((h) => hashes.add(h));
  }
  for (const conversation of c.conversations) conversation.images.forEach((h) => hashes.add(h));
  return hashes;
}
