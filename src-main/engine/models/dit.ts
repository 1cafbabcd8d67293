/** The OmniGen2 diffusion transformer (model-notes.md §3–4, §9.1); implementation in ./dit/. */
export {
  DIT_QUANTIZED_WEIGHTS,
  DitModel,
  type DitBatchInputs,
  type DitForwardOptions,
  type DitItemInputs,
  type DitLoadOptions,
  type FloatTensor,
  type TextContext,
} from './dit/dit-model.ts';
export { DitStepCache, type DitAcceleration, type DitStepCacheStats, type MainStackCall } from './dit/step-cache.ts';
export { DitConfigError, MAX_REFERENCE_IMAGES, parseDitConfig, type DitConfig } from './dit/config.ts';
export { DIT_GRAPHS, type DitGraphName, type DitGraphOptions } from './dit/graphs.ts';
export { patchify, unpatchify, type LatentShape } from './dit/patchify.ts';
export { ditRopeTables, type DitRopeTables } from './dit/rope-layout.ts';
