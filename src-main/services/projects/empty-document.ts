import type { ProjectDocument, ProjectParameters } from '../../ipc/contract.ts';
import { DEFAULT_RECIPE_PARAMS } from '../generation/recipe.ts';

/** A new project starts from OmniGen2's `inference.py` defaults (model-notes.md §5.10), as the CLI does. */
const { prompt: _prompt, negativePrompt: _negative, ...defaults } = DEFAULT_RECIPE_PARAMS;
export const DEFAULT_PARAMETERS: ProjectParameters = {
  ...defaults,
  cfgRange: [defaults.cfgRange[0], defaults.cfgRange[1]],
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
    conversations: [],
  };
}
