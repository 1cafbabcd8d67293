/** The Qwen2.5-VL vision tower (model-notes.md §1.5, §2.4, §9.1); implementation in ./qwen-vision/. */
export {
  QwenVisionModel,
  type GridThw,
  type QwenVisionLoadOptions,
  type VisionInput,
} from './qwen-vision/vision-model.ts';
export { QwenVisionConfigError, parseQwenVisionConfig, type QwenVisionConfig } from './qwen-vision/config.ts';
export { VISION_GRAPH_NAME, buildQwenVisionGraph, type QwenVisionGraphOptions } from './qwen-vision/graph.ts';
export {
  MASKED_KEY_BIAS,
  invertPermutation,
  patchPosition,
  visionRotaryTable,
  visionWindowLayout,
  windowBatch,
  windowTokenOrder,
  type PatchGrid,
  type VisionRotaryTable,
  type WindowBatch,
  type WindowLayout,
} from './qwen-vision/layout.ts';
