import type { ProjectDocument, ProjectParameters } from '../../ipc/contract.ts';

/** A new project starts from OmniGen2's `inference.py` defaults (omnigen2-inference.md §5.10). */
export const DEFAULT_PARAMETERS: ProjectParameters = {
  seed: 0,
  steps: 50,
  textGuidance: 5,
  imageGuidance: 2,
  cfgRange: [0, 1],
  scheduler: 'euler',
  width: 1024,
  height: 1024,
  maxPixels: 1024 * 1024,
  maxSideLength: 1024,
  numImages: 1,
  acceleration: 'none',
};

export function emptyDocument(opts: { id: string; now: Date; appVersion: string }): ProjectDocument {
  const at = opts.now.toISOString();
  return {
    id: opts.id,
    createdAt: at,
    modifiedAt: at,
    appVersion: opts.appVersion,
    workspace: {
      inputs: [],
      prompt: '',
      negativePrompt: '',
      parameters: DEFAULT_PARAMETERS,
      model: '',
      canvas: { view: 'grid', zoom: 1, pan: [0, 0], selectedResultIds: [] },
    },
    results: [],
    history: [],
    reflections: [],
  };
}
